// Declaration and validation of the [audit] options.
#include "audit_options.h"

#include <boost/program_options/value_semantic.hpp>

namespace po = boost::program_options;

namespace audit {

void declare_audit_options(po::options_description& out) {
  po::options_description section("[audit] options");
  // clang-format off
  section.add_options()
      ("audit.file", po::value<std::string>()->default_value(""), "file the audit lines are appended to (required)")
      ("audit.topics", po::value<std::string>()->default_value(""), "comma-separated topics to audit; empty: all")
      ("audit.queueCapacity", po::value<int64_t>()->default_value(65536),
       "stored puts that may wait for the writer thread; beyond that they are counted as dropped");
  // clang-format on
  out.add(section);
}

mq::Result<AuditOptions> parse_audit_options(const po::variables_map& vm) {
  AuditOptions o;
  o.file = vm["audit.file"].as<std::string>();
  if (o.file.empty())
    return mq::Status::invalid("[audit] file is not set; add file=<path of the audit log> to the [audit] section");
  const std::string topics = vm["audit.topics"].as<std::string>();
  size_t begin = 0;
  while (begin <= topics.size()) {
    size_t end = topics.find(',', begin);
    if (end == std::string::npos) end = topics.size();
    std::string topic = topics.substr(begin, end - begin);
    if (!topic.empty()) o.topics.insert(std::move(topic));
    begin = end + 1;
  }
  o.queue_capacity = vm["audit.queueCapacity"].as<int64_t>();
  if (o.queue_capacity < 1 || o.queue_capacity > (int64_t{1} << 24))
    return mq::Status::invalid("[audit] queueCapacity=" + std::to_string(o.queue_capacity) +
                               " is out of range; use 1..16777216");
  return o;
}

}  // namespace audit
