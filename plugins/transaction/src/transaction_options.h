// The transaction plugin's options ("transaction.<key>"), their defaults and validation.
#pragma once

#include <cstdint>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace mq::transaction {

inline constexpr const char* kPluginName = "transaction";

struct TransactionOptions {
  // A half younger than this (store time; or its CHECK_IMMUNITY_TIME_IN_SECONDS) is not checked.
  int64_t transaction_timeout_ms = 6000;  // transactionTimeout
  // Milliseconds between check rounds (scan halves, schedule check-backs).
  int64_t check_interval_ms = 60000;  // transactionCheckInterval
  // Check rounds a half may be due in before it is moved to TRANS_CHECK_MAX_TIME_TOPIC.
  int64_t check_max = 15;  // transactionCheckMax
  // Longest hold of a check-back long poll (a longer request timeout is cut to this).
  int64_t max_poll_hold_ms = 60000;  // not an option
  // Due checks kept per producer group waiting for a poller; more wait for the next round.
  int64_t max_ready_per_group = 10000;  // not an option
};

// Adds every "transaction.<key>" option with its default.
void declare_transaction_options(boost::program_options::options_description& out);
// Reads and validates the options; errors read "[transaction] <key>=<value> ...: allowed is ...".
Result<TransactionOptions> parse_transaction_options(const boost::program_options::variables_map& vm);

}  // namespace mq::transaction
