// Group name validation.
#include "broker/group_name.h"

namespace mq::kernel {

std::string validate_group_name(std::string_view group) {
  if (group.empty()) return "group name is empty";
  if (group.size() > kMaxGroupLength)
    return "group name is " + std::to_string(group.size()) + " characters; the limit is " +
           std::to_string(kMaxGroupLength);
  for (char c : group) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '%' || c == '|';
    if (!ok)
      return "group name '" + std::string(group) + "' contains '" + std::string(1, c) +
             "'; allowed are letters, digits and _ - % |";
  }
  return {};
}

}  // namespace mq::kernel
