// FakeTransport: records the broker's name-server calls for registration tests. Servers
// are not supported (serve_* answer REQUEST_CODE_NOT_SUPPORTED).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/config.hpp>

#include "mq/transport.h"

namespace mq::test {

// Threading: every method is safe from any thread.
class FakeTransport final : public Transport {
 public:
  struct Call {
    std::string address;
    std::string kind;  // "register" or "unregister"
    BrokerRegistration registration;
  };

  Result<std::unique_ptr<Server>> serve_broker(BrokerApi&, const std::string&, uint16_t) override;
  Result<std::unique_ptr<Server>> serve_name_server(NameServerApi&, const std::string&, uint16_t) override;
  std::unique_ptr<NameServerClient> name_server_client(const std::string& address) override;

  // Calls to `address` fail with `status` until set back to OK.
  void fail_address(const std::string& address, Status status);
  std::vector<Call> calls() const;
  size_t clients_created() const;

 private:
  class Client;
  mutable std::mutex mu_;
  std::vector<Call> calls_;                  // guarded by mu_
  std::map<std::string, Status> failures_;   // guarded by mu_
  size_t clients_created_ = 0;               // guarded by mu_
};

}  // namespace mq::test
