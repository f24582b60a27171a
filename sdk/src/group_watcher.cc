// GroupWatcher implementation.
#include "group_watcher.h"

#include <poll.h>

#include <thrift/TApplicationException.h>

#include "logging.h"
#include "mq/client/error_code.h"

namespace mq::client {
namespace {
constexpr int kRetryDelayMs = 1000;

// Sleeps up to ms, returning early when the interrupter fires.
void interruptible_sleep(const Interrupter& interrupter, int ms) {
  pollfd p{interrupter.read_fd(), POLLIN, 0};
  ::poll(&p, 1, ms);
}
}  // namespace

GroupWatcher::GroupWatcher(std::string group, std::string client_id, int64_t hold_ms, OnChange on_change)
    : group_(std::move(group)), client_id_(std::move(client_id)), hold_ms_(hold_ms), on_change_(std::move(on_change)) {}

GroupWatcher::~GroupWatcher() { stop(); }

void GroupWatcher::set_brokers(const std::set<std::string>& addresses) {
  std::vector<std::shared_ptr<Watch>> removed;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    for (auto it = watches_.begin(); it != watches_.end();) {
      if (addresses.count(it->first) == 0) {
        removed.push_back(it->second);
        it = watches_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& addr : addresses) {
      if (watches_.count(addr) != 0) continue;
      auto watch = std::make_shared<Watch>();
      watch->address = addr;
      watch->thread = std::thread([this, watch] { run(*watch); });
      watches_.emplace(addr, std::move(watch));
    }
  }
  for (auto& w : removed) stop_watch(w);
}

void GroupWatcher::stop_watch(const std::shared_ptr<Watch>& watch) {
  watch->stop.store(true);
  watch->interrupter.fire();
  if (watch->thread.joinable()) watch->thread.join();
}

void GroupWatcher::stop() {
  std::map<std::string, std::shared_ptr<Watch>> all;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    all.swap(watches_);
  }
  for (auto& [addr, w] : all) stop_watch(w);
}

void GroupWatcher::run(Watch& watch) {
  std::unique_ptr<PullChannel> channel;
  int64_t known = -1;
  bool first = true;
  while (!watch.stop.load()) {
    wire::ConsumerGroupChangeRequest request;
    request.consumerGroup = group_;
    request.clientId = client_id_;
    request.knownVersion = known;
    request.timeoutMs = hold_ms_;
    wire::ConsumerGroupChangeResponse response;
    try {
      if (!channel) {
        channel = PullChannel::connect(watch.address, 3000, static_cast<int>(hold_ms_) + 15000, watch.interrupter);
      }
      channel->broker().waitConsumerGroupChange(response, request);
    } catch (const apache::thrift::TApplicationException& e) {
      if (e.getType() == apache::thrift::TApplicationException::UNKNOWN_METHOD) {
        client_log().info("consumer {}: broker {} has no waitConsumerGroupChange; periodic rebalance only", group_,
                          watch.address);
        return;
      }
      channel.reset();
      interruptible_sleep(watch.interrupter, kRetryDelayMs);
      continue;
    } catch (const std::exception& e) {
      channel.reset();
      if (watch.stop.load()) return;
      client_log().debug("consumer {}: waitConsumerGroupChange on {} failed: {}", group_, watch.address, e.what());
      interruptible_sleep(watch.interrupter, kRetryDelayMs);
      continue;
    }
    if (watch.stop.load()) return;
    if (response.code == code::kRequestCodeNotSupported) return;
    if (response.code != code::kSuccess) {
      interruptible_sleep(watch.interrupter, kRetryDelayMs);
      continue;
    }
    if (first || response.version != known) {
      on_change_(watch.address, response.version,
                 first ? std::vector<std::string>() : response.offsetResetTopics);
    }
    first = false;
    known = response.version;
  }
}

}  // namespace mq::client
