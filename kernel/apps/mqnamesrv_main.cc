// mqnamesrv: load transport-thrift, serve the route registry until SIGINT/SIGTERM.
#include "app/namesrv_app.h"
#include "app/run_app.h"

int main(int argc, char** argv) { return mq::kernel::run_app<mq::kernel::NamesrvApp>("mqnamesrv", argc, argv); }
