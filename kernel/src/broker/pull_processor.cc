// PullProcessor: the pull path and its long-polling hand-off.
#include "broker/pull_processor.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "broker/group_name.h"
#include "broker/sql_filter.h"
#include "broker/tag_filter.h"

namespace mq::kernel {
namespace {

// Longest a pull is held (clients ask for 15 s). Bounds how long a request can pin its
// connection's in-flight slot and reply buffer; longer suspend timeouts are cut to this.
constexpr int64_t kMaxPullHoldMs = 60 * 1000;

std::string where(const PullRequest& r) {
  return "topic '" + r.topic + "' queue " + std::to_string(r.queue_id);
}

std::string range(const GetResult& g) {
  return std::string("[") + std::to_string(g.min_offset.value()) + ", " + std::to_string(g.max_offset.value()) + ")";
}

// The commit-log bytes a consumer may be behind before it is sent to a slave.
int64_t in_memory_share(const BrokerSettings& settings) {
  int64_t total = settings.total_memory_bytes;
  if (total <= 0) {
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    total = pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : int64_t{1} << 40;
  }
  return total / 100 * settings.access_message_in_memory_max_ratio;
}

PullResponse error_response(const PullRequest& request, Status status) {
  PullResponse r;
  r.status = std::move(status);
  r.next_begin_offset = request.queue_offset;
  return r;
}

}  // namespace

Result<std::shared_ptr<const MessageFilter>> make_pull_filter(const std::string& expression_type,
                                                              const std::string& expression) {
  std::string type = expression_type;
  for (char& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (type.empty() || type == "TAG") {
    auto parsed = TagFilter::parse(expression);
    if (!parsed) return parsed.status();
    if (parsed->match_all()) return std::shared_ptr<const MessageFilter>();
    return std::shared_ptr<const MessageFilter>(std::make_shared<const TagFilter>(std::move(parsed).value()));
  }
  if (type == "SQL92") {
    auto parsed = SqlFilter::parse(expression);
    if (!parsed) return parsed.status();
    return std::shared_ptr<const MessageFilter>(std::make_shared<const SqlFilter>(std::move(parsed).value()));
  }
  return Status(Code::kSubscriptionParseFailed,
                "expression type '" + expression_type + "' is not supported; use TAG or SQL92");
}

PullResponse map_get_result(const PullRequest& request, GetResult g) {
  PullResponse r;
  r.min_offset = g.min_offset;
  r.max_offset = g.max_offset;
  r.next_begin_offset = g.next_begin_offset;
  const int64_t offset = request.queue_offset.value();
  const std::string at = "offset " + std::to_string(offset) + " of " + where(request);
  switch (g.status) {
    case GetStatus::kFound:
      r.messages = std::move(g.messages);
      break;
    case GetStatus::kNoMatchedMessage:
      r.status = Status(Code::kPullRetryImmediately, "no message matching '" + request.subscription + "' from " + at +
                                                         " up to " + std::to_string(g.next_begin_offset.value()));
      break;
    case GetStatus::kMessageWasRemoving:
      r.status = Status(Code::kPullRetryImmediately, "the message at " + at + " was removed by retention; pull again");
      break;
    case GetStatus::kOffsetOverflowOne:
      r.status = Status(Code::kPullNotFound, "no new message at " + at);
      break;
    case GetStatus::kOffsetFoundNull:
      r.status = Status(Code::kPullNotFound, "no message found at " + at + "; valid range is " + range(g));
      break;
    case GetStatus::kOffsetTooSmall:
      r.next_begin_offset = g.min_offset;
      r.status = Status(Code::kPullOffsetMoved, at + " is below the minimum; valid range is " + range(g) +
                                                    "; continue from " + std::to_string(g.min_offset.value()));
      break;
    case GetStatus::kOffsetOverflowBadly:
      r.next_begin_offset = g.max_offset;
      r.status = Status(Code::kPullOffsetMoved, at + " is past the end; valid range is " + range(g) +
                                                    "; continue from " + std::to_string(g.max_offset.value()));
      break;
    case GetStatus::kNoMessageInQueue:
    case GetStatus::kNoMatchedLogicQueue:
      r.next_begin_offset = QueueOffset(0);
      if (offset == 0) {
        r.status = Status(Code::kPullNotFound, where(request) + " has no message yet");
      } else {
        r.status = Status(Code::kPullOffsetMoved, at + " is invalid: the queue is empty; continue from 0");
      }
      break;
  }
  return r;
}

PullProcessor::PullProcessor(const BrokerSettings& settings, MessageStore& store, TopicConfigManager& topics,
                             ConsumerOffsetManager& offsets, SubscriptionGroupManager& groups, PullHoldService& holds,
                             spdlog::logger& log)
    : settings_(settings),
      store_(store),
      topics_(topics),
      offsets_(offsets),
      groups_(groups),
      holds_(holds),
      log_(log),
      in_memory_bytes_(in_memory_share(settings)) {}

int64_t PullProcessor::suggest_broker(const PullRequest& request, CommitLogOffset pulled_end) {
  if (request.consumer_group.empty()) return 0;
  auto group = groups_.find(request.consumer_group);
  if (!group) return 0;
  const int64_t unread = store_.stats().max_commit_log_offset.value() - pulled_end.value();
  return unread > in_memory_bytes_ ? group->which_broker_when_consume_slowly : group->broker_id;
}

void PullProcessor::process(PullRequest request, Reply<PullResponse> reply) {
  auto topic = topics_.find(request.topic);
  if (!topic)
    return reply(error_response(
        request, Status(Code::kTopicNotExist, "topic '" + request.topic + "' does not exist on broker '" +
                                                  settings_.identity.broker_name + "'")));
  if ((topic->perm & kPermRead) == 0)
    return reply(error_response(
        request, Status(Code::kNoPermission, "topic '" + request.topic + "' is not readable on broker '" +
                                                 settings_.identity.broker_name + "'")));
  if (request.queue_id < 0 || request.queue_id >= topic->read_queue_nums)
    return reply(error_response(
        request, Status::invalid("queue id " + std::to_string(request.queue_id) + " is out of range for topic '" +
                                 request.topic + "'; valid ids are 0.." + std::to_string(topic->read_queue_nums - 1))));
  if (request.queue_offset.value() < 0)
    return reply(error_response(request, Status::invalid("pull offset " + std::to_string(request.queue_offset.value()) +
                                                         " of " + where(request) + " is negative")));
  if (request.max_msgs <= 0 || request.max_bytes <= 0)
    return reply(error_response(
        request,
        Status::invalid("pull of " + where(request) + " asks for max_msgs=" + std::to_string(request.max_msgs) +
                        " max_bytes=" + std::to_string(request.max_bytes) + "; both must be positive")));
  // Larger asks are served with the broker's caps (RocketMQ also serves less than asked).
  request.max_msgs = std::min(request.max_msgs, settings_.pull_max_msg_nums);
  request.max_bytes = std::min(request.max_bytes, settings_.pull_max_bytes);
  auto parsed = make_pull_filter(request.expression_type, request.subscription);
  if (!parsed) return reply(error_response(request, parsed.status()));
  std::shared_ptr<const MessageFilter> filter = std::move(parsed).value();

  if (!request.consumer_group.empty()) {
    if (std::string why = validate_group_name(request.consumer_group); !why.empty())
      return reply(error_response(request, Status::invalid(why)));
    auto group = groups_.find(request.consumer_group);
    if (!group) {
      if (!settings_.auto_create_subscription_group)
        return reply(error_response(
            request, Status(Code::kSubscriptionGroupNotExist,
                            "subscription group '" + request.consumer_group + "' does not exist on broker '" +
                                settings_.identity.broker_name +
                                "'; create it with mqadmin updateSubGroup or set autoCreateSubscriptionGroup=true")));
      group = groups_.create_if_absent(request.consumer_group);
    }
    if (!group->consume_enable)
      return reply(error_response(request, Status(Code::kNoPermission, "subscription group '" + request.consumer_group +
                                                                           "' has consumeEnable=false on broker '" +
                                                                           settings_.identity.broker_name + "'")));
  }
  if (request.commit_offset >= 0 && !request.consumer_group.empty())
    offsets_.commit(request.consumer_group, request.topic, request.queue_id, request.commit_offset);

  std::optional<Clock::time_point> park_until;
  bool wake_on_arrival = settings_.long_polling_enable;
  if (request.suspend_timeout_ms > 0) {
    int64_t hold_ms = settings_.long_polling_enable ? request.suspend_timeout_ms : settings_.short_polling_time_ms;
    hold_ms = std::min(hold_ms, kMaxPullHoldMs);  // keeps the deadline arithmetic in range
    park_until = Clock::now() + std::chrono::milliseconds(hold_ms);
  }
  serve(std::move(request), std::move(reply), std::move(filter), park_until, wake_on_arrival);
}

void PullProcessor::rerun(HeldPull pull, std::optional<Clock::time_point> park_until) {
  serve(std::move(pull.request), std::move(pull.reply), std::move(pull.filter), park_until, pull.wake_on_arrival);
}

void PullProcessor::serve(PullRequest request, Reply<PullResponse> reply, std::shared_ptr<const MessageFilter> filter,
                          std::optional<Clock::time_point> park_until, bool wake_on_arrival) {
  GetRequest get;
  get.topic = request.topic;
  get.queue_id = request.queue_id;
  get.offset = request.queue_offset;
  get.max_count = request.max_msgs;
  get.max_bytes = request.max_bytes;
  get.filter = filter.get();
  QueueOffset seen_max{0};
  PullResponse response;
  GetRecordsResult records;
  if (request.want_records && store_.get_records(get, &records)) {
    seen_max = records.get.max_offset;
    response = map_get_result(request, std::move(records.get));
    if (records.record_count > 0) {
      response.records = std::move(records.records);
      response.record_count = records.record_count;
      response.suggest_which_broker_id = suggest_broker(request, records.end_of_last);
    }
  } else {
    GetResult result = store_.get(get);
    seen_max = result.max_offset;
    response = map_get_result(request, std::move(result));
    if (!response.messages.empty()) {
      const StoredMessage& last = response.messages.back();
      response.suggest_which_broker_id =
          suggest_broker(request, CommitLogOffset(last.commit_log_offset.value() + last.store_size));
    }
  }

  if (response.status.code() != Code::kPullNotFound || !park_until || Clock::now() >= *park_until)
    return reply(std::move(response));

  HeldPull held;
  held.request = std::move(request);
  held.reply = std::move(reply);
  held.deadline = *park_until;
  held.filter = std::move(filter);
  held.wake_on_arrival = wake_on_arrival;
  const std::string topic = held.request.topic;
  const QueueId queue_id = held.request.queue_id;
  if (!holds_.park(held)) {  // shutting down: answer now
    response.status =
        Status(Code::kPullNotFound, "no new message at " + where(held.request) + " (broker is shutting down)");
    return held.reply(std::move(response));
  }
  // A message that arrived between the get and the park did not see this pull: re-check.
  if (wake_on_arrival) {
    QueueOffset now_max = store_.max_offset(topic, queue_id);
    if (now_max > seen_max) holds_.notify(topic, queue_id, now_max, std::nullopt);
  }
  log_.trace("parked pull of topic '{}' queue {}", topic, queue_id);
}

}  // namespace mq::kernel
