// TransactionStore implementation (see transaction_store.h and README.md).
#include "transaction_store.h"

#include <algorithm>
#include <future>
#include <utility>

namespace mq::transaction {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A put outcome that still means "appended" (stored, maybe not flushed or replicated yet).
// Never success: only the durable status of put_tracked answers a producer or moves progress.
bool appended(const Status& st) {
  return st.is_ok() || st.code() == Code::kFlushDiskTimeout || st.code() == Code::kFlushSlaveTimeout ||
         st.code() == Code::kSlaveNotAvailable;
}

constexpr int32_t kScanBatch = 32;

// Estimated wire size of a check's message (body, topic, properties, fixed fields).
size_t check_bytes(const StoredMessage& m) {
  size_t n = 64 + m.topic.size() + m.body.size();
  for (const auto& [k, v] : m.properties) n += k.size() + v.size() + 2;
  return n;
}

}  // namespace

TransactionStore::TransactionStore(TransactionOptions options, std::shared_ptr<MessageStore> store,
                                   std::shared_ptr<BrokerContext> context, std::shared_ptr<PutPipeline> pipeline,
                                   HostAddress store_host, std::string progress_path,
                                   std::shared_ptr<spdlog::logger> log, bool is_slave)
    : options_(options),
      store_(std::move(store)),
      context_(std::move(context)),
      pipeline_(std::move(pipeline)),
      store_host_(store_host),
      progress_path_(std::move(progress_path)),
      log_(std::move(log)),
      is_slave_(is_slave) {}

TransactionStore::~TransactionStore() {
  stop();
}

// ---------------------------------------------------------------- start / stop / load

Status TransactionStore::start() {
  if (is_slave_) {
    log_->info("slave broker: transaction ends and check-backs are served by the master");
    return Status::ok();
  }
  auto loaded = read_progress(progress_path_);
  if (!loaded) return loaded.status();
  {
    std::lock_guard lock(mu_);
    if (started_) return Status::ok();
    persisted_ = *loaded;
  }
  // Op records and halves are read through consume queues, which the dispatcher builds
  // after recovery: wait until it reached the end of the log (bounded).
  const StoreStats at_start = store_->stats();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (store_->stats().dispatched_commit_log_offset < at_start.max_commit_log_offset && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (store_->stats().dispatched_commit_log_offset < at_start.max_commit_log_offset)
    log_->warn(
        "the store's dispatcher did not catch up within 30 s; half and op records stored near the end of the "
        "log are picked up by the next check round");
  {
    std::lock_guard lock(mu_);
    boot_end_ = at_start.max_commit_log_offset;
  }
  load();
  {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  persist_progress();  // the file names the loaded state (written when it moved)
  const Progress at_load = progress();
  log_->info("transaction service started: {} pending half message(s), progress half={} op={}", pending_count(),
             at_load.half_offset, at_load.op_offset);
  {
    std::lock_guard lock(work_mu_);
    work_closed_ = false;
  }
  worker_ = std::thread([this] { work(); });
  thread_ = std::thread([this] { run(); });
  return Status::ok();
}

void TransactionStore::stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  expire_waiters(/*all=*/true);
  {
    std::lock_guard lock(work_mu_);
    work_closed_ = true;  // queued tasks still run: they see stopping_ and answer at once
  }
  work_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  {
    std::unique_lock lock(mu_);
    if (!idle_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return inflight_puts_ == 0; }))
      log_->warn("stopping with {} store put(s) of the transaction service unanswered", inflight_puts_);
  }
  persist_progress();
}

void TransactionStore::load() {
  int64_t half_from = 0;
  int64_t op_from = 0;
  {
    std::lock_guard lock(mu_);
    half_from = persisted_.half_offset;
    op_from = persisted_.op_offset;
  }
  const std::string op_topic(kTransactionOpHalfTopic);
  op_from = std::max(op_from, store_->min_offset(op_topic, 0).value());
  const int64_t op_end = store_->max_offset(op_topic, 0).value();
  int64_t ops_read = 0;
  for (int64_t off = op_from; off < op_end;) {
    GetRequest get;
    get.topic = op_topic;
    get.queue_id = 0;
    get.offset = QueueOffset(off);
    get.max_count = kScanBatch;
    get.max_bytes = 1 << 20;
    GetResult r = store_->get(get);
    if (r.status != GetStatus::kFound || r.messages.empty()) {
      if (r.status == GetStatus::kOffsetTooSmall && r.next_begin_offset.value() > off) {
        off = r.next_begin_offset.value();
        continue;
      }
      break;
    }
    std::lock_guard lock(mu_);
    for (const StoredMessage& m : r.messages) {
      auto op = parse_op(m);
      if (!op) {
        log_->warn("op record at op queue offset {} is not one of this plugin's; skipped", m.queue_offset.value());
        continue;
      }
      ++ops_read;
      const int64_t q = op->half_queue_offset.value();
      if (q < half_from) continue;
      OpState& st = ops_[q];
      if (st.first_op < 0 || m.queue_offset.value() < st.first_op) st.first_op = m.queue_offset.value();
      if (is_final(op->kind)) {
        if (!st.final) st.final = op->kind;
      } else {
        ++st.checks;
      }
    }
    off = r.next_begin_offset.value();
  }
  {
    std::lock_guard lock(mu_);
    scan_ = std::max(half_from, store_->min_offset(std::string(kTransactionHalfTopic), 0).value());
  }
  scan_new_halves();
  log_->info("loaded {} op record(s) from op queue offset {}", ops_read, op_from);
}

// Reads halves from scan_ to the end of the half queue into pending_ (those without a final op).
void TransactionStore::scan_new_halves() {
  const std::string half_topic(kTransactionHalfTopic);
  int64_t off = 0;
  {
    std::lock_guard lock(mu_);
    off = scan_;
  }
  for (;;) {
    GetRequest get;
    get.topic = half_topic;
    get.queue_id = 0;
    get.offset = QueueOffset(off);
    get.max_count = kScanBatch;
    get.max_bytes = 4 << 20;
    GetResult r = store_->get(get);
    if (r.status == GetStatus::kOffsetTooSmall && r.next_begin_offset.value() > off) {
      log_->warn("half messages from queue offset {} to {} were removed by retention before an outcome was recorded",
                 off, r.next_begin_offset.value());
      off = r.next_begin_offset.value();
      std::lock_guard lock(mu_);
      scan_ = off;
      continue;
    }
    if (r.status != GetStatus::kFound || r.messages.empty()) break;
    std::lock_guard lock(mu_);
    for (const StoredMessage& m : r.messages) {
      const int64_t q = m.queue_offset.value();
      auto it = ops_.find(q);
      if (it != ops_.end() && it->second.final) continue;
      Pending p;
      p.offset = m.commit_log_offset;
      p.store_ts = m.store_timestamp_ms;
      p.immunity_ms = immunity_ms(m, options_.transaction_timeout_ms);
      p.group = std::string(m.property(prop::kProducerGroup));
      p.real_topic = std::string(m.property(prop::kRealTopic));
      p.uniq_key = std::string(m.property(prop::kUniqKey));
      p.index_checked = m.commit_log_offset >= boot_end_;
      pending_.emplace(q, std::move(p));
    }
    off = r.next_begin_offset.value();
    scan_ = std::max(scan_, off);
  }
}

// ---------------------------------------------------------------- service thread

void TransactionStore::run() {
  auto next_round = Clock::now() + std::chrono::milliseconds(options_.check_interval_ms);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto wake = next_round;
    for (const auto& w : waiters_) wake = std::min(wake, w.deadline);
    cv_.wait_until(lock, wake, [&] {
      if (stopping_ || round_requested_) return true;
      for (const auto& w : waiters_)
        if (w.deadline < wake) return true;  // a new poll with an earlier deadline
      return Clock::now() >= wake;
    });
    if (stopping_) break;
    const bool round = round_requested_ || Clock::now() >= next_round;
    if (round) {
      round_requested_ = false;
      round_running_ = true;
    }
    lock.unlock();
    expire_waiters(/*all=*/false);
    if (round) {
      try {
        run_round();
      } catch (const std::exception& e) {
        log_->error("check round failed: {}", e.what());
      }
      next_round = Clock::now() + std::chrono::milliseconds(options_.check_interval_ms);
    }
    lock.lock();
    if (round) {
      round_running_ = false;
      ++rounds_done_;
      idle_cv_.notify_all();
    }
  }
}

void TransactionStore::run_round() {
  scan_new_halves();
  verify_pre_boot_halves();
  const int64_t now = now_ms();
  struct Due {
    int64_t q;
    Pending p;
    int64_t checks;
  };
  std::vector<Due> to_check;
  std::vector<Due> to_discard;
  {
    std::lock_guard lock(mu_);
    // Drop due checks of halves resolved since (a group nobody polls keeps only live ones).
    for (auto g = ready_.begin(); g != ready_.end();) {
      std::erase_if(g->second, [&](int64_t q) {
        auto p = pending_.find(q);
        return p == pending_.end() || !p->second.queued;
      });
      g = g->second.empty() ? ready_.erase(g) : std::next(g);
    }
    for (auto& [q, p] : pending_) {
      auto it = ops_.find(q);
      if (it != ops_.end() && (it->second.final || it->second.in_flight)) continue;
      if (now - p.store_ts < p.immunity_ms || !p.index_checked) continue;
      const int64_t checks = it == ops_.end() ? 0 : it->second.checks;
      if (checks >= options_.check_max) {
        to_discard.push_back({q, p, checks});
        ops_[q].in_flight = true;
      } else {
        to_check.push_back({q, p, checks});
      }
    }
  }
  for (auto& d : to_discard) discard_half(QueueOffset(d.q), d.p, d.checks);
  for (auto& d : to_check) check_half(QueueOffset(d.q), d.p, d.checks + 1);
  serve_waiters();
  persist_progress();
}

// Halves stored before this start may have been committed by a commit put whose op record
// was lost in a crash: look for the committed copy (key index) before checking them.
void TransactionStore::verify_pre_boot_halves() {
  std::vector<std::pair<int64_t, CommitLogOffset>> unverified;
  {
    std::lock_guard lock(mu_);
    for (const auto& [q, p] : pending_)
      if (!p.index_checked) unverified.emplace_back(q, p.offset);
  }
  for (const auto& [q, offset] : unverified) {
    auto half = store_->read_at(offset);
    const bool committed = half && committed_before_boot(*half);
    if (committed) {
      log_->warn("half at queue offset {} was committed before the restart without its op record; recording it", q);
      std::promise<void> recorded;
      write_op(QueueOffset(q), offset, OpKind::kCommit, [&recorded](Status) { recorded.set_value(); });
      recorded.get_future().wait();
    }
    std::lock_guard lock(mu_);
    auto it = pending_.find(q);
    if (it != pending_.end()) it->second.index_checked = true;
  }
}

void TransactionStore::check_half(QueueOffset q, const Pending& p, int64_t round) {
  write_op(q, p.offset, OpKind::kCheck, [this, q](Status st) {
    if (!st) log_->warn("check op record for half {} not stored: {}", q.value(), st.to_string());
  });
  std::lock_guard lock(mu_);
  auto it = pending_.find(q.value());
  if (it == pending_.end() || it->second.queued) return;  // resolved meanwhile, or still waiting for a poller
  auto& queue = ready_[p.group];
  if (static_cast<int64_t>(queue.size()) >= options_.max_ready_per_group) return;
  it->second.queued = true;
  queue.push_back(q.value());
  log_->debug("half {} of group {} due for check {}", q.value(), p.group, round);
}

void TransactionStore::discard_half(QueueOffset q, const Pending& p, int64_t checks) {
  auto release = [this, q] {
    std::lock_guard lock(mu_);
    ops_[q.value()].in_flight = false;
  };
  auto half = store_->read_at(p.offset);
  if (!half) {
    log_->error("half at queue offset {} cannot be read to discard it: {}", q.value(), half.status().to_string());
    return release();
  }
  TopicConfig topic;
  topic.topic_name = std::string(kCheckMaxTimeTopic);
  topic.read_queue_nums = 1;
  topic.write_queue_nums = 1;
  if (auto ensured = context_->ensure_topic(topic); !ensured)
    log_->warn("cannot create topic {}: {}", topic.topic_name, ensured.status().to_string());
  put_tracked(discarded_copy(*half, checks), [this, q, p, checks, release](PutResult, Status durable) {
    if (!durable) {
      log_->error("half {} of group {} not durably copied to {}: {}; retried next round", q.value(), p.group,
                  kCheckMaxTimeTopic, durable.to_string());
      return release();
    }
    log_->warn("half {} (topic {}, key {}) of group {} was checked {} times without an outcome; moved to {}", q.value(),
               p.real_topic, p.uniq_key, p.group, checks, kCheckMaxTimeTopic);
    write_op(q, p.offset, OpKind::kDiscard, [release](Status) { release(); });
  });
}

bool TransactionStore::committed_before_boot(const StoredMessage& half) {
  const std::string real_topic(half.property(prop::kRealTopic));
  const std::string key(half.property(prop::kUniqKey));
  if (real_topic.empty() || key.empty()) return false;
  for (const StoredMessage& m : store_->query_by_key(real_topic, key, 64, half.store_timestamp_ms, -1))
    if ((m.sys_flag & kTransactionTypeMask) == kTransactionCommitType &&
        m.prepared_transaction_offset == half.commit_log_offset)
      return true;
  return false;
}

// ---------------------------------------------------------------- polls

std::vector<TransactionStore::DueCheck> TransactionStore::take_ready_locked(const std::string& group, int32_t max) {
  std::vector<DueCheck> out;
  auto it = ready_.find(group);
  while (it != ready_.end() && !it->second.empty() && static_cast<int32_t>(out.size()) < max) {
    const int64_t q = it->second.front();
    it->second.pop_front();
    auto p = pending_.find(q);
    if (p == pending_.end() || !p->second.queued) continue;  // resolved while it waited
    p->second.queued = false;
    out.emplace_back(q, p->second.offset);
  }
  if (it != ready_.end() && it->second.empty()) ready_.erase(it);
  return out;
}

TransactionChecks TransactionStore::read_checks(const std::string& group, const std::vector<DueCheck>& halves) {
  TransactionChecks out;
  size_t bytes = 0;
  size_t i = 0;
  for (; i < halves.size(); ++i) {
    const CommitLogOffset offset = halves[i].second;
    auto half = store_->read_at(offset);
    if (!half) {
      log_->error("half at commit-log offset {} cannot be read for a check: {}", offset.value(),
                  half.status().to_string());
      continue;
    }
    auto view = check_view_of_half(*half);
    if (!view) {
      log_->error("half at queue offset {} is not checked back: {}", halves[i].first, view.status().to_string());
      continue;
    }
    const size_t size = check_bytes(*view);
    if (!out.checks.empty() && bytes + size > kMaxCheckReplyBytes) break;  // the rest waits for the next poll
    bytes += size;
    TransactionCheck check;
    check.transaction_id = std::string(half->property(tprop::kTransactionId));
    if (check.transaction_id.empty()) check.transaction_id = std::string(half->property(prop::kUniqKey));
    check.message = std::move(*view);
    out.checks.push_back(std::move(check));
  }
  if (i < halves.size()) {
    std::lock_guard lock(mu_);
    auto& queue = ready_[group];
    for (size_t j = halves.size(); j-- > i;) {
      auto p = pending_.find(halves[j].first);
      if (p == pending_.end() || p->second.queued) continue;  // resolved meanwhile
      p->second.queued = true;
      queue.push_front(halves[j].first);
    }
    if (queue.empty()) ready_.erase(group);
  }
  return out;
}

bool TransactionStore::post(std::function<void()> task) {
  {
    std::lock_guard lock(work_mu_);
    if (work_closed_) return false;
    work_.push_back(std::move(task));
  }
  work_cv_.notify_one();
  return true;
}

void TransactionStore::work() {
  std::unique_lock lock(work_mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return work_closed_ || !work_.empty(); });
    if (work_.empty()) return;  // closed and drained
    auto task = std::move(work_.front());
    work_.pop_front();
    lock.unlock();
    try {
      task();
    } catch (const std::exception& e) {
      log_->error("transaction worker task failed: {}", e.what());
    }
    lock.lock();
  }
}

void TransactionStore::poll_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) {
  TransactionChecks out;
  if (is_slave_) {
    out.status = Status(Code::kSlaveNotAvailable, "this broker is a slave; poll check-backs on the master");
    return reply(std::move(out));
  }
  if (request.producer_group.empty()) {
    out.status = Status::invalid("pollTransactionChecks needs a producer group");
    return reply(std::move(out));
  }
  const int32_t max = std::clamp(request.max_checks, 1, 1024);
  std::vector<DueCheck> due;
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_) {
      out.status = Status(Code::kServiceNotAvailable, "the transaction service is not running");
      return reply(std::move(out));
    }
    due = take_ready_locked(request.producer_group, max);
    if (due.empty() && request.timeout_ms > 0) {
      const int64_t hold = std::min(request.timeout_ms, options_.max_poll_hold_ms);
      waiters_.push_back(
          Waiter{request.producer_group, max, Clock::now() + std::chrono::milliseconds(hold), std::move(reply)});
      cv_.notify_all();
      return;
    }
  }
  if (due.empty()) return reply(std::move(out));
  // The reads run on the worker (never on the transport io thread). Refused once stopping:
  // the checks were handed out of ready_ and are queued again by the next round.
  auto shared = std::make_shared<Reply<TransactionChecks>>(std::move(reply));
  if (!post([this, group = request.producer_group, due = std::move(due), shared] {
        (*shared)(read_checks(group, due));
      })) {
    out.status = Status(Code::kServiceNotAvailable, "the transaction service is stopping");
    (*shared)(std::move(out));
  }
}

void TransactionStore::serve_waiters() {
  struct Answer {
    Reply<TransactionChecks> reply;
    std::string group;
    std::vector<DueCheck> due;
  };
  std::vector<Answer> answers;
  {
    std::lock_guard lock(mu_);
    for (auto w = waiters_.begin(); w != waiters_.end();) {
      auto due = take_ready_locked(w->group, w->max);
      if (due.empty()) {
        ++w;
        continue;
      }
      answers.push_back(Answer{std::move(w->reply), w->group, std::move(due)});
      w = waiters_.erase(w);
    }
  }
  for (auto& a : answers) {
    auto shared = std::make_shared<Answer>(std::move(a));
    if (!post([this, shared] { shared->reply(read_checks(shared->group, shared->due)); }))
      shared->reply(TransactionChecks{});
  }
}

void TransactionStore::expire_waiters(bool all) {
  std::vector<Reply<TransactionChecks>> expired;
  {
    std::lock_guard lock(mu_);
    const auto now = Clock::now();
    for (auto w = waiters_.begin(); w != waiters_.end();) {
      if (all || w->deadline <= now) {
        expired.push_back(std::move(w->reply));
        w = waiters_.erase(w);
      } else {
        ++w;
      }
    }
  }
  for (auto& reply : expired) reply(TransactionChecks{});
}

// ---------------------------------------------------------------- end transaction

void TransactionStore::end_transaction(EndTransaction request, Reply<Status> reply) {
  if (is_slave_)
    return reply(Status(Code::kSlaveNotAvailable, "this broker is a slave; end the transaction on the master"));
  const int32_t type = request.commit_or_rollback;
  if (type == kTransactionNotType) return reply(Status::ok());  // unknown: left for check-back
  if (type != kTransactionCommitType && type != kTransactionRollbackType)
    return reply(Status::invalid("endTransaction commitOrRollback=" + std::to_string(type) +
                                 " is not allowed: 8 (COMMIT), 12 (ROLLBACK) or 0 (UNKNOWN)"));
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_)
      return reply(Status(Code::kServiceNotAvailable, "the transaction service is not running; retry"));
  }
  // The half is read (and maybe the key index queried) on the worker, not on this io thread.
  auto shared = std::make_shared<Reply<Status>>(std::move(reply));
  if (!post([this, request = std::move(request), shared]() mutable { do_end(std::move(request), std::move(*shared)); }))
    (*shared)(Status(Code::kServiceNotAvailable, "the transaction service is stopping; retry"));
}

void TransactionStore::do_end(EndTransaction request, Reply<Status> reply) {
  const bool commit = request.commit_or_rollback == kTransactionCommitType;
  auto half = store_->read_at(request.half_offset);
  const std::string where = "commit-log offset " + std::to_string(request.half_offset.value()) + ", queue offset " +
                            std::to_string(request.half_queue_offset.value());
  if (!half || half->topic != kTransactionHalfTopic || half->queue_offset != request.half_queue_offset)
    return reply(Status(Code::kQueryNotFound, "no half message at " + where +
                                                  "; pass the offsets of the PREPARED send's result (offsetMsgId, "
                                                  "queueOffset) or of the check-back"));
  if (half->property(prop::kProducerGroup) != request.producer_group)
    return reply(Status(Code::kTransactionFailed, "the half message at " + where + " belongs to producer group '" +
                                                      std::string(half->property(prop::kProducerGroup)) + "', not '" +
                                                      request.producer_group + "'"));
  if (!request.msg_id.empty() && half->property(prop::kUniqKey) != request.msg_id)
    return reply(Status(Code::kTransactionFailed, "the half message at " + where + " has message id " +
                                                      std::string(half->property(prop::kUniqKey)) + ", not " +
                                                      request.msg_id));
  const QueueOffset q = request.half_queue_offset;
  bool verify = false;
  bool copy_stored = false;
  {
    std::lock_guard lock(mu_);
    if (!started_ || stopping_)
      return reply(Status(Code::kServiceNotAvailable, "the transaction service is not running; retry"));
    std::optional<OpKind> outcome;
    if (auto it = ops_.find(q.value()); it != ops_.end()) outcome = it->second.final;
    if (auto it = recent_.find(q.value()); !outcome && it != recent_.end()) outcome = it->second;
    if (outcome) {
      const bool same = (commit && *outcome == OpKind::kCommit) || (!commit && *outcome == OpKind::kRollback);
      if (same) return reply(Status(Code::kSuccess, "already " + std::string(op_kind_name(*outcome))));
      return reply(Status(Code::kTransactionFailed,
                          "the transaction of the half message at " + where + " was already " +
                              std::string(op_kind_name(*outcome)) +
                              (*outcome == OpKind::kDiscard ? " (too many checks); resume it with mqadmin" : "")));
    }
    // Resolved before the progress point, outcome no longer in memory: a duplicate end (README).
    if (q.value() < half_done_locked()) return reply(Status(Code::kSuccess, "already processed"));
    OpState& st = ops_[q.value()];
    if (st.in_flight)
      return reply(Status(Code::kSystemBusy, "an end of the transaction at " + where + " is in progress; retry"));
    st.in_flight = true;
    copy_stored = st.copy_stored;
    verify = half->commit_log_offset < boot_end_;
  }
  if (verify && committed_before_boot(*half)) {
    // Committed before a crash that lost the op record: record it, never store a second copy.
    write_op(q, half->commit_log_offset, OpKind::kCommit,
             [this, q, commit, reply = std::move(reply)](Status st) mutable {
               if (st && !commit) st = Status(Code::kTransactionFailed, "the transaction was already COMMIT");
               finish_end(q, std::move(st), std::move(reply));
             });
    return;
  }
  if (!commit) {
    write_op(q, half->commit_log_offset, OpKind::kRollback, [this, q, reply = std::move(reply)](Status st) mutable {
      finish_end(q, std::move(st), std::move(reply));
    });
    return;
  }
  const CommitLogOffset half_offset = half->commit_log_offset;
  auto record_commit = [this, q, half_offset](Reply<Status> reply) {
    write_op(q, half_offset, OpKind::kCommit, [this, q, reply = std::move(reply)](Status st) mutable {
      // Not durable: the half stays pending (not final in memory, progress stays before it);
      // the producer sees the failure and a retry or check answer writes the op record again.
      if (!st) log_->error("commit of half {}: its op record is not durable: {}", q.value(), st.to_string());
      finish_end(q, std::move(st), std::move(reply));
    });
  };
  if (copy_stored) return record_commit(std::move(reply));  // an earlier attempt appended the copy
  auto copy = committed_from_half(*half);
  if (!copy) return finish_end(q, Status(Code::kTransactionFailed, copy.status().message()), std::move(reply));
  put_tracked(std::move(*copy),
              [this, q, record_commit, reply = std::move(reply)](PutResult put, Status durable) mutable {
                if (appended(put.status)) {
                  // Appended (maybe not durable yet): a retry in this run writes only the op record, whose
                  // flush / replication covers the copy before it. After a restart the key index finds it.
                  std::lock_guard lock(mu_);
                  ops_[q.value()].copy_stored = true;
                }
                if (!durable) {
                  log_->error("commit copy of half {} is not durable: {}", q.value(), durable.to_string());
                  return finish_end(q, std::move(durable), std::move(reply));
                }
                record_commit(std::move(reply));
              });
}

void TransactionStore::finish_end(QueueOffset q, Status status, Reply<Status> reply) {
  {
    std::lock_guard lock(mu_);
    auto it = ops_.find(q.value());
    if (it != ops_.end()) it->second.in_flight = false;
  }
  reply(std::move(status));
}

// ---------------------------------------------------------------- writes

void TransactionStore::put_tracked(StoredMessage msg, std::function<void(PutResult, Status)> done) {
  {
    std::lock_guard lock(mu_);
    ++inflight_puts_;
  }
  auto finish = [this, done = std::move(done)](PutResult put, Status durable) {
    done(std::move(put), std::move(durable));
    std::lock_guard lock(mu_);
    if (--inflight_puts_ == 0) idle_cv_.notify_all();
  };
  store_->put(std::move(msg), [this, finish = std::move(finish)](PutResult put) mutable {
    // FLUSH_DISK_TIMEOUT and the like: appended, not known durable -> not done.
    if (!put.status.is_ok() || !pipeline_) {
      Status st = put.status;
      return finish(std::move(put), std::move(st));
    }
    const StoredRange range{put.commit_log_offset, CommitLogOffset(put.commit_log_offset.value() + put.wrote_bytes)};
    pipeline_->after_own_put(range, [put = std::move(put), finish = std::move(finish)](Status st) mutable {
      finish(std::move(put), std::move(st));
    });
  });
}

void TransactionStore::write_op(QueueOffset half, CommitLogOffset half_offset, OpKind kind, Done done) {
  {
    std::lock_guard lock(mu_);
    OpState& st = ops_[half.value()];
    ++st.unknown_ops;
    if (kind == OpKind::kCheck) ++st.checks;
  }
  put_tracked(make_op(half, half_offset, kind, store_host_),
              [this, half, kind, done = std::move(done)](PutResult put, Status durable) {
                {
                  std::lock_guard lock(mu_);
                  OpState& s = ops_[half.value()];
                  --s.unknown_ops;
                  // An appended record is read at the next start: keep the op offset at or below it.
                  if (appended(put.status)) {
                    if (s.first_op < 0 || put.queue_offset.value() < s.first_op) s.first_op = put.queue_offset.value();
                    unflushed_ops_[put.queue_offset.value()] = put.commit_log_offset.value() + put.wrote_bytes;
                  }
                  if (durable && is_final(kind)) {
                    if (!s.final) s.final = kind;
                    pending_.erase(half.value());
                    remember_outcome_locked(half.value(), *s.final);
                    // Saved progress passes this half only once the store flushed the record.
                    const int64_t end = put.commit_log_offset.value() + put.wrote_bytes;
                    int64_t& e = unflushed_finals_[half.value()];
                    e = std::max(e, end);
                  }
                }
                done(std::move(durable));
              });
}

// ---------------------------------------------------------------- progress

void TransactionStore::remember_outcome_locked(int64_t half, OpKind kind) {
  recent_[half] = kind;
  while (recent_.size() > kRecentOutcomes) recent_.erase(recent_.begin());
}

int64_t TransactionStore::half_done_locked() const {
  return pending_.empty() ? scan_ : std::min(pending_.begin()->first, scan_);
}

Progress TransactionStore::compute_progress_locked(CommitLogOffset flushed) {
  Progress p;
  p.half_offset = half_done_locked();
  std::erase_if(unflushed_finals_, [&](const auto& e) { return e.second <= flushed.value(); });
  if (!unflushed_finals_.empty()) p.half_offset = std::min(p.half_offset, unflushed_finals_.begin()->first);
  ops_.erase(ops_.begin(), ops_.lower_bound(p.half_offset));
  bool unknown = false;
  int64_t first = -1;
  for (const auto& [q, st] : ops_) {
    if (st.unknown_ops > 0 || st.in_flight) unknown = true;
    if (st.first_op >= 0 && (first < 0 || st.first_op < first)) first = st.first_op;
  }
  if (unknown) {
    p.op_offset = std::min(persisted_.op_offset, first < 0 ? persisted_.op_offset : first);
  } else if (first >= 0) {
    p.op_offset = first;
  } else {
    p.op_offset = store_->max_offset(std::string(kTransactionOpHalfTopic), 0).value();
  }
  // Never past an op record the store has not flushed (of any half, also below the half
  // offset: a CHECK op appended after its half's final op).
  std::erase_if(unflushed_ops_, [&](const auto& e) { return e.second <= flushed.value(); });
  if (!unflushed_ops_.empty()) p.op_offset = std::min(p.op_offset, unflushed_ops_.begin()->first);
  // The op offset never moves back below what was persisted unless an op needs it, and a
  // lower value is always safe (more op records are re-read at start).
  return p;
}

void TransactionStore::persist_progress() {
  const CommitLogOffset flushed = store_->stats().flushed_commit_log_offset;  // read before the state
  Progress p;
  {
    std::lock_guard lock(mu_);
    p = compute_progress_locked(flushed);
    if (p == persisted_) return;
  }
  if (Status st = write_progress(progress_path_, p); !st) {
    log_->error("transaction progress not saved: {}", st.to_string());
    return;
  }
  std::lock_guard lock(mu_);
  persisted_ = p;
}

// ---------------------------------------------------------------- test hooks

void TransactionStore::check_now() {
  std::unique_lock lock(mu_);
  if (!started_ || stopping_) return;
  // A round already running may have scanned before the caller's state: wait for the next one.
  const uint64_t target = rounds_done_ + (round_running_ ? 2 : 1);
  round_requested_ = true;
  cv_.notify_all();
  idle_cv_.wait(lock, [&] { return rounds_done_ >= target || stopping_; });
}

Progress TransactionStore::progress() const {
  std::lock_guard lock(mu_);
  return persisted_;
}

size_t TransactionStore::pending_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [q, p] : pending_) {
    auto it = ops_.find(q);
    if (it == ops_.end() || !it->second.final) ++n;
  }
  return n;
}

int64_t TransactionStore::check_times(QueueOffset half) const {
  std::lock_guard lock(mu_);
  auto it = ops_.find(half.value());
  return it == ops_.end() ? 0 : it->second.checks;
}

}  // namespace mq::transaction
