// mqbench: load generator for our broker (produce / consume / e2e) through the SDK or raw
// Thrift calls. Usage: mqbench --help; docs/benchmarks.md has the commands behind every figure.
#include "driver.h"
#include "mq_backend.h"

int main(int argc, char** argv) {
  return mq::bench::bench_main(argc, argv, [](const mq::bench::BenchOptions& o, std::string* error) {
    mq::bench::BenchOptions copy = o;
    if (copy.backend.empty()) copy.backend = "raw";
    return mq::bench::make_mq_backend(copy, error);
  });
}
