// Local IPv4 discovery via getifaddrs (first up, non-loopback IPv4 interface).
#include "local_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

namespace mq::client {

uint32_t local_ipv4() {
  static const uint32_t ip = [] {
    uint32_t found = 0x7F000001;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return found;
    for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
      if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
      if ((it->ifa_flags & IFF_UP) == 0 || (it->ifa_flags & IFF_LOOPBACK) != 0) continue;
      found = ntohl(reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr.s_addr);
      break;
    }
    freeifaddrs(list);
    return found;
  }();
  return ip;
}

std::string local_ip_string() {
  uint32_t ip = local_ipv4();
  return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xFF) + "." +
         std::to_string((ip >> 8) & 0xFF) + "." + std::to_string(ip & 0xFF);
}

int32_t process_id() { return static_cast<int32_t>(::getpid()); }

}  // namespace mq::client
