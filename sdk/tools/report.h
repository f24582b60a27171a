// Report: what an mqadmin command prints, rendered either as human-readable text (fields as
// "Name: value" lines, then aligned tables) or as one JSON document for scripts:
// {"Name": value, ..., "<section>": [{"<column>": cell, ...}, ...]}. Column names drop the
// leading '#' and spaces; cells that are integers become JSON numbers.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "table.h"

namespace mq::admin {

class Report {
 public:
  void set(const std::string& name, nlohmann::json value);
  // Adds a table; sections print in the order added. The reference stays valid until the next add.
  Table& add_section(const std::string& name, std::vector<std::string> header);
  void print(std::ostream& out, bool json) const;
  nlohmann::json to_json() const;

 private:
  std::vector<std::pair<std::string, nlohmann::json>> fields_;
  std::vector<std::pair<std::string, Table>> sections_;
};

// "#Broker Name" -> "BrokerName".
std::string json_key(const std::string& column);

}  // namespace mq::admin
