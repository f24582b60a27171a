// mqadmin: RocketMQ-style administration tool (topics, routes, clusters, send / consume,
// consumer progress). Exit 0 ok, 1 RPC / server error, 2 usage error.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <thrift/Thrift.h>

#include "admin_args.h"
#include "admin_commands.h"
#include "logging.h"

int main(int argc, char** argv) {
  if (std::getenv("MQ_CLIENT_LOG_LEVEL") == nullptr) mq::client::set_client_log_level("warn");
  // Thrift prints its own socket errors to stderr; the tool reports them itself.
  apache::thrift::GlobalOutput.setOutputFunction([](const char*) {});
  std::vector<std::string> args(argv + 1, argv + argc);
  mq::admin::ParseResult parsed = mq::admin::parse_admin_args(args);
  if (!parsed.ok) {
    std::cerr << "mqadmin: " << parsed.error << "\n\n";
    const mq::admin::CommandSpec* spec = args.empty() ? nullptr : mq::admin::find_command(args[0]);
    std::cerr << (spec != nullptr ? mq::admin::command_usage(*spec) : mq::admin::usage_text());
    return 2;
  }
  return mq::admin::run_command(parsed.args, std::cout, std::cerr);
}
