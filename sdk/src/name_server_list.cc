// resolve_name_servers implementation.
#include "name_server_list.h"

#include <cstdlib>

#include "mq/wire/client_channel.h"

namespace mq::client {

Status resolve_name_servers(const std::string& configured, std::vector<std::string>* out) {
  std::string value = configured;
  if (value.empty()) {
    const char* env = std::getenv("NAMESRV_ADDR");
    if (env != nullptr) value = env;
  }
  std::vector<std::string> result;
  std::string current;
  auto flush = [&]() -> Status {
    if (current.empty()) return Status::ok();
    std::string host;
    int port = 0;
    if (!wire::split_address(current, &host, &port)) {
      return Status(code::kIllegalArgument,
                    "name server address '" + current + "' is not host:port; use e.g. 127.0.0.1:9876;other:9876");
    }
    result.push_back(current);
    current.clear();
    return Status::ok();
  };
  for (char c : value) {
    if (c == ';' || c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (Status s = flush(); !s) return s;
    } else {
      current.push_back(c);
    }
  }
  if (Status s = flush(); !s) return s;
  if (result.empty()) {
    return Status(code::kNoNameServer,
                  "no name server address: call set_namesrv_addr(\"host:9876\") or set NAMESRV_ADDR");
  }
  *out = std::move(result);
  return Status::ok();
}

}  // namespace mq::client
