// The audit plugin's configuration: section [audit] of the broker config.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

#include "mq/status.h"

namespace audit {

struct AuditOptions {
  std::string file;                // audit.file: appended to, one line per stored message
  std::set<std::string> topics;    // audit.topics: comma-separated; empty = every topic
  int64_t queue_capacity = 65536;  // audit.queueCapacity: stored puts waiting for the writer
};

// Declares "audit.file", "audit.topics", "audit.queueCapacity" (the descriptor's
// declare_options).
void declare_audit_options(boost::program_options::options_description& out);

// Reads and checks the options; an error names the key, the value and what is allowed.
mq::Result<AuditOptions> parse_audit_options(const boost::program_options::variables_map& vm);

}  // namespace audit
