// Option declaration, parsing and validation for the transaction plugin.
#include "transaction_options.h"

#include <string>

#include <boost/any.hpp>

namespace mq::transaction {

namespace po = boost::program_options;

namespace {

std::string key(const char* k) {
  return std::string(kPluginName) + "." + k;
}

Status bad(const char* k, const std::string& value, const std::string& allowed) {
  return Status::invalid("[transaction] " + std::string(k) + "=" + value + " is not allowed: " + allowed);
}

// Reads an integer option (declared as int64_t, or given as a string). Absent keeps *out.
Status read_int(const po::variables_map& vm, const char* k, int64_t* out) {
  auto it = vm.find(key(k));
  if (it == vm.end() || it->second.empty()) return Status::ok();
  const boost::any& v = it->second.value();
  if (const auto* p = boost::any_cast<int64_t>(&v)) {
    *out = *p;
  } else if (const auto* p32 = boost::any_cast<int>(&v)) {
    *out = *p32;
  } else if (const auto* s = boost::any_cast<std::string>(&v)) {
    try {
      size_t used = 0;
      *out = std::stoll(*s, &used);
      if (used != s->size()) return bad(k, *s, "an integer");
    } catch (const std::exception&) {
      return bad(k, *s, "an integer");
    }
  } else {
    return Status::invalid("[transaction] " + std::string(k) + " has an unexpected type; declare it as int64");
  }
  return Status::ok();
}

}  // namespace

void declare_transaction_options(po::options_description& out) {
  TransactionOptions d;
  out.add_options()(key("transactionTimeout").c_str(), po::value<int64_t>()->default_value(d.transaction_timeout_ms),
                    "milliseconds after its store time before a half message is checked back with its producer")(
      key("transactionCheckInterval").c_str(), po::value<int64_t>()->default_value(d.check_interval_ms),
      "milliseconds between check rounds (scan of pending half messages)")(
      key("transactionCheckMax").c_str(), po::value<int64_t>()->default_value(d.check_max),
      "check rounds a half may be due in before it goes to TRANS_CHECK_MAX_TIME_TOPIC");
}

Result<TransactionOptions> parse_transaction_options(const po::variables_map& vm) {
  TransactionOptions o;
  if (Status st = read_int(vm, "transactionTimeout", &o.transaction_timeout_ms); !st) return st;
  if (Status st = read_int(vm, "transactionCheckInterval", &o.check_interval_ms); !st) return st;
  if (Status st = read_int(vm, "transactionCheckMax", &o.check_max); !st) return st;
  if (o.transaction_timeout_ms < 0)
    return bad("transactionTimeout", std::to_string(o.transaction_timeout_ms), "0 or more ms (default 6000)");
  if (o.check_interval_ms < 10 || o.check_interval_ms > 86400000)
    return bad("transactionCheckInterval", std::to_string(o.check_interval_ms), "10 to 86400000 ms (default 60000)");
  if (o.check_max < 1 || o.check_max > 1000000)
    return bad("transactionCheckMax", std::to_string(o.check_max), "1 to 1000000 (default 15)");
  return o;
}

}  // namespace mq::transaction
