// Option declaration, parsing and validation for the transaction plugin.
#include "transaction_options.h"

#include <string>

#include <boost/any.hpp>

#include "mq/plugin_options.h"

namespace mq::transaction {

namespace po = boost::program_options;

namespace {

constexpr PluginOptions kOptions{kPluginName};

}  // namespace

void declare_transaction_options(po::options_description& out) {
  TransactionOptions d;
  out.add_options()(kOptions.key("transactionTimeout").c_str(),
                    po::value<int64_t>()->default_value(d.transaction_timeout_ms),
                    "milliseconds after its store time before a half message is checked back with its producer")(
      kOptions.key("transactionCheckInterval").c_str(), po::value<int64_t>()->default_value(d.check_interval_ms),
      "milliseconds between check rounds (scan of pending half messages)")(
      kOptions.key("transactionCheckMax").c_str(), po::value<int64_t>()->default_value(d.check_max),
      "check rounds a half may be due in before it goes to TRANS_CHECK_MAX_TIME_TOPIC");
}

Result<TransactionOptions> parse_transaction_options(const po::variables_map& vm) {
  TransactionOptions o;
  if (Status st = kOptions.read_int(vm, "transactionTimeout", &o.transaction_timeout_ms); !st) return st;
  if (Status st = kOptions.read_int(vm, "transactionCheckInterval", &o.check_interval_ms); !st) return st;
  if (Status st = kOptions.read_int(vm, "transactionCheckMax", &o.check_max); !st) return st;
  if (o.transaction_timeout_ms < 0)
    return kOptions.bad("transactionTimeout", std::to_string(o.transaction_timeout_ms), "0 or more ms (default 6000)");
  if (o.check_interval_ms < 10 || o.check_interval_ms > 86400000)
    return kOptions.bad("transactionCheckInterval", std::to_string(o.check_interval_ms),
                        "10 to 86400000 ms (default 60000)");
  if (o.check_max < 1 || o.check_max > 1000000)
    return kOptions.bad("transactionCheckMax", std::to_string(o.check_max), "1 to 1000000 (default 15)");
  return o;
}

}  // namespace mq::transaction
