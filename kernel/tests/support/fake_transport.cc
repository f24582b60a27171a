// FakeTransport: in-memory name-server clients that record calls.
#include "support/fake_transport.h"

namespace mq::test {

class FakeTransport::Client final : public NameServerClient {
 public:
  Client(FakeTransport& t, std::string address) : t_(t), address_(std::move(address)) {}
  Status register_broker(const BrokerRegistration& registration) override {
    return record("register", registration);
  }
  Status unregister_broker(const std::string& cluster_name, const std::string& broker_name, int64_t broker_id,
                           const std::string& broker_addr) override {
    BrokerRegistration r;
    r.cluster_name = cluster_name;
    r.broker_name = broker_name;
    r.broker_id = broker_id;
    r.broker_addr = broker_addr;
    return record("unregister", r);
  }

 private:
  Status record(const char* kind, const BrokerRegistration& r) {
    std::lock_guard lock(t_.mu_);
    t_.calls_.push_back(Call{address_, kind, r});
    auto it = t_.failures_.find(address_);
    return it == t_.failures_.end() ? Status::ok() : it->second;
  }
  FakeTransport& t_;
  std::string address_;
};

Result<std::unique_ptr<Server>> FakeTransport::serve_broker(BrokerApi&, const std::string&, uint16_t) {
  return Status(Code::kRequestCodeNotSupported, "FakeTransport does not serve");
}

Result<std::unique_ptr<Server>> FakeTransport::serve_name_server(NameServerApi&, const std::string&, uint16_t) {
  return Status(Code::kRequestCodeNotSupported, "FakeTransport does not serve");
}

std::unique_ptr<NameServerClient> FakeTransport::name_server_client(const std::string& address) {
  std::lock_guard lock(mu_);
  ++clients_created_;
  return std::make_unique<Client>(*this, address);
}

void FakeTransport::fail_address(const std::string& address, Status status) {
  std::lock_guard lock(mu_);
  if (status.is_ok()) {
    failures_.erase(address);
  } else {
    failures_[address] = std::move(status);
  }
}

std::vector<FakeTransport::Call> FakeTransport::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

size_t FakeTransport::clients_created() const {
  std::lock_guard lock(mu_);
  return clients_created_;
}

}  // namespace mq::test
