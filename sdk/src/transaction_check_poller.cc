// TransactionCheckPoller implementation.
#include "transaction_check_poller.h"

#include <poll.h>

#include <thrift/TApplicationException.h>

#include "logging.h"
#include "mq/client/error_code.h"

namespace mq::client {
namespace {
constexpr int kRetryDelayMs = 1000;
constexpr int kUnsupportedDelayMs = 60000;  // a broker without the transaction plugin

void interruptible_sleep(const Interrupter& interrupter, int ms) {
  pollfd p{interrupter.read_fd(), POLLIN, 0};
  ::poll(&p, 1, ms);
}
}  // namespace

TransactionCheckPoller::TransactionCheckPoller(std::string group, std::string client_id, int64_t hold_ms,
                                               OnCheck on_check)
    : group_(std::move(group)), client_id_(std::move(client_id)), hold_ms_(hold_ms), on_check_(std::move(on_check)) {}

TransactionCheckPoller::~TransactionCheckPoller() {
  stop();
}

void TransactionCheckPoller::set_brokers(const std::set<std::string>& addresses) {
  std::vector<std::shared_ptr<Poll>> removed;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    for (auto it = polls_.begin(); it != polls_.end();) {
      if (addresses.count(it->first) == 0) {
        removed.push_back(it->second);
        it = polls_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& addr : addresses) {
      if (polls_.count(addr) != 0) continue;
      auto poll = std::make_shared<Poll>();
      poll->address = addr;
      poll->thread = std::thread([this, poll] { run(*poll); });
      polls_.emplace(addr, std::move(poll));
    }
  }
  for (auto& p : removed) stop_poll(p);
}

void TransactionCheckPoller::stop_poll(const std::shared_ptr<Poll>& poll) {
  poll->stop.store(true);
  poll->interrupter.fire();
  if (poll->thread.joinable()) poll->thread.join();
}

void TransactionCheckPoller::stop() {
  std::map<std::string, std::shared_ptr<Poll>> all;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    all.swap(polls_);
  }
  for (auto& [addr, p] : all) stop_poll(p);
}

void TransactionCheckPoller::run(Poll& poll) {
  std::unique_ptr<PullChannel> channel;
  while (!poll.stop.load()) {
    wire::TransactionCheckPollRequest request;
    request.producerGroup = group_;
    request.clientId = client_id_;
    request.maxChecks = 32;
    request.timeoutMs = hold_ms_;
    wire::TransactionCheckPollResponse response;
    try {
      if (!channel)
        channel = PullChannel::connect(poll.address, 3000, static_cast<int>(hold_ms_) + 15000, poll.interrupter);
      channel->broker().pollTransactionChecks(response, request);
    } catch (const apache::thrift::TApplicationException& e) {
      channel.reset();
      if (e.getType() == apache::thrift::TApplicationException::UNKNOWN_METHOD) {
        client_log().info("transaction producer {}: broker {} has no pollTransactionChecks", group_, poll.address);
        interruptible_sleep(poll.interrupter, kUnsupportedDelayMs);
      } else {
        interruptible_sleep(poll.interrupter, kRetryDelayMs);
      }
      continue;
    } catch (const std::exception& e) {
      channel.reset();
      if (poll.stop.load()) return;
      client_log().debug("transaction producer {}: pollTransactionChecks on {} failed: {}", group_, poll.address,
                         e.what());
      interruptible_sleep(poll.interrupter, kRetryDelayMs);
      continue;
    }
    if (poll.stop.load()) return;
    if (response.code == code::kRequestCodeNotSupported) {
      client_log().info("transaction producer {}: broker {} serves no check-backs: {}", group_, poll.address,
                        response.remark);
      interruptible_sleep(poll.interrupter, kUnsupportedDelayMs);
      continue;
    }
    if (response.code != code::kSuccess) {
      interruptible_sleep(poll.interrupter, kRetryDelayMs);
      continue;
    }
    for (const auto& check : response.checks) on_check_(poll.address, check);
  }
}

}  // namespace mq::client
