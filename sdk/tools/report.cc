// Report rendering.
#include "report.h"

#include <charconv>

namespace mq::admin {

std::string json_key(const std::string& column) {
  std::string out;
  for (char c : column) {
    if (c != '#' && c != ' ') out += c;
  }
  return out;
}

void Report::set(const std::string& name, nlohmann::json value) { fields_.emplace_back(name, std::move(value)); }

Table& Report::add_section(const std::string& name, std::vector<std::string> header) {
  sections_.emplace_back(name, Table(std::move(header)));
  return sections_.back().second;
}

nlohmann::json Report::to_json() const {
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [name, value] : fields_) doc[name] = value;
  for (const auto& [name, table] : sections_) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& row : table.rows()) {
      nlohmann::json item = nlohmann::json::object();
      for (size_t i = 0; i < row.size() && i < table.header().size(); ++i) {
        int64_t number = 0;
        const std::string& cell = row[i];
        auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), number);
        if (!cell.empty() && ec == std::errc() && end == cell.data() + cell.size()) {
          item[json_key(table.header()[i])] = number;
        } else {
          item[json_key(table.header()[i])] = cell;
        }
      }
      rows.push_back(std::move(item));
    }
    doc[name] = std::move(rows);
  }
  return doc;
}

void Report::print(std::ostream& out, bool json) const {
  if (json) {
    out << to_json().dump(2) << '\n';
    return;
  }
  for (const auto& [name, value] : fields_) {
    out << name << ": " << (value.is_string() ? value.get<std::string>() : value.dump()) << '\n';
  }
  bool first = fields_.empty();
  for (const auto& [name, table] : sections_) {
    if (!first) out << '\n';
    first = false;
    if (sections_.size() > 1 || !fields_.empty()) out << name << ":\n";
    table.print(out);
  }
}

}  // namespace mq::admin
