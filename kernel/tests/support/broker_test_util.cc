// Helpers for BrokerCore tests.
#include "support/broker_test_util.h"

#include <stdlib.h>

#include <stdexcept>
#include <thread>

#include <spdlog/sinks/null_sink.h>

namespace mq::test {

TempDir::TempDir() {
  std::string tmpl = "/tmp/broker-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::permissions(path_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(path_, ec);
}

std::shared_ptr<spdlog::logger> quiet_logger(const std::string& name) {
  return std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::null_sink_mt>());
}

kernel::BrokerSettings test_settings(const std::filesystem::path& root) {
  kernel::BrokerSettings s;
  s.identity.cluster_name = "TestCluster";
  s.identity.broker_name = "broker-test";
  s.identity.broker_id = 0;
  s.identity.store_root = root.string();
  s.identity.broker_address = HostAddress{0x7F000001, 10911};
  s.default_topic_queue_nums = 4;
  return s;
}

Message make_message(std::string body, std::string tags) {
  Message m;
  m.body = std::move(body);
  if (!tags.empty()) m.set_property(prop::kTags, std::move(tags));
  return m;
}

SendRequest make_send(const std::string& topic, std::vector<Message> messages, QueueId queue_id) {
  SendRequest r;
  r.producer_group = "test-producer";
  r.topic = topic;
  r.queue_id = queue_id;
  r.messages = std::move(messages);
  r.born_host = HostAddress{0x7F000001, 40000};
  return r;
}

PullRequest make_pull(const std::string& topic, QueueId queue_id, int64_t offset, int64_t suspend_ms,
                      std::string subscription) {
  PullRequest r;
  r.consumer_group = "test-consumer";
  r.topic = topic;
  r.queue_id = queue_id;
  r.queue_offset = QueueOffset(offset);
  r.suspend_timeout_ms = suspend_ms;
  r.subscription = std::move(subscription);
  return r;
}

SendResponse send_sync(BrokerApi& api, SendRequest request) {
  auto promise = std::make_shared<std::promise<SendResponse>>();
  auto future = promise->get_future();
  api.send(std::move(request), [promise](SendResponse r) { promise->set_value(std::move(r)); });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    throw std::runtime_error("send got no reply within 10 s");
  return future.get();
}

std::future<PullResponse> pull_async(BrokerApi& api, PullRequest request) {
  auto promise = std::make_shared<std::promise<PullResponse>>();
  auto future = promise->get_future();
  api.pull(std::move(request), [promise](PullResponse r) { promise->set_value(std::move(r)); });
  return future;
}

PullResponse pull_sync(BrokerApi& api, PullRequest request) {
  auto future = pull_async(api, std::move(request));
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready)
    throw std::runtime_error("pull got no reply within 10 s");
  return future.get();
}

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace mq::test
