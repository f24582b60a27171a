// TransactionStore: the broker side of transactional messages. Serves end_transaction
// (commit / rollback of a half) and check-back long polls, and runs the check service thread
// that finds halves without an outcome and hands due checks to polling producers.
//
// State is rebuilt from the commit log at start: op records in RMQ_SYS_TRANS_OP_HALF_TOPIC
// (one per outcome or check round, body = the half's queue offset) from the persisted op
// offset, then halves in RMQ_SYS_TRANS_HALF_TOPIC queue 0 from the persisted half offset
// (progress_file.h). See README.md for the crash-safety argument.
//
// Threading: end_transaction / poll_checks are called on transport io threads and only
// validate and take in-memory state there; every store read (read_at, key-index queries)
// runs on the plugin's worker thread, which never waits for a flush or a replica (puts
// complete through callbacks on store / replication threads). One mutex guards the state
// and is never held across a store call that may block or a reply. The service thread does
// scans, check rounds and poll timeouts.
//
// Durability: a put of this plugin (COMMIT copy, op record, check-max copy) counts only
// when the store answered OK (flushed as the flush mode requires; FLUSH_DISK_TIMEOUT does
// not count) and PutPipeline::after_own_put answered OK (a SYNC_MASTER's slave has it).
// Only then is a half final in memory and the producer's end answered SUCCESS; otherwise
// the reply carries the failing status and the half stays pending (a later end or check
// answer retries; a duplicate copy is possible, a loss is not). The progress file never
// moves past a final op record the store has not flushed yet (StoreStats::
// flushed_commit_log_offset).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/logger.h>

#include "half_message.h"
#include "mq/broker_context.h"
#include "mq/message_store.h"
#include "mq/put_pipeline.h"
#include "mq/transaction_service.h"
#include "progress_file.h"
#include "transaction_options.h"

namespace mq::transaction {

class TransactionStore final : public TransactionService {
 public:
  // A slave (is_slave) keeps no state and runs no checks: it answers end calls and polls
  // SLAVE_NOT_AVAILABLE, as RocketMQ's EndTransactionProcessor does.
  // `pipeline` runs the after-store hooks over the plugin's own puts (nullptr: none).
  TransactionStore(TransactionOptions options, std::shared_ptr<MessageStore> store,
                   std::shared_ptr<BrokerContext> context, std::shared_ptr<PutPipeline> pipeline,
                   HostAddress store_host, std::string progress_path, std::shared_ptr<spdlog::logger> log,
                   bool is_slave = false);

  // Largest check-back reply (estimated bytes of the messages); always at least one check.
  static constexpr size_t kMaxCheckReplyBytes = 1 << 20;
  ~TransactionStore() override;  // stop()

  // Waits (bounded) for the store's dispatcher to catch up, loads progress, op records and
  // halves, then starts the service thread.
  Status start();
  // Answers parked polls (no checks), joins the thread, waits for its puts, writes progress.
  // Idempotent.
  void stop();

  void end_transaction(EndTransaction request, Reply<Status> reply) override;
  void poll_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) override;

  // ---- for tests and diagnostics ----
  // Runs a check round now (on the service thread) and waits until it finished.
  void check_now();
  Progress progress() const;                    // what the next persist writes
  size_t pending_count() const;                 // scanned halves without a final outcome
  int64_t check_times(QueueOffset half) const;  // check rounds counted for a half

 private:
  struct Pending {
    CommitLogOffset offset{0};
    int64_t store_ts = 0;
    int64_t immunity_ms = 0;
    std::string group;
    std::string real_topic;
    std::string uniq_key;
    bool queued = false;         // a check for it waits in ready_
    bool index_checked = false;  // pre-boot half: looked for a commit made before a crash
  };
  struct OpState {
    std::optional<OpKind> final;  // COMMIT / ROLLBACK / DISCARD once recorded
    int64_t checks = 0;           // CHECK op records (issued, in memory; durable once stored)
    int64_t first_op = -1;        // lowest op queue offset of this half, -1: none stored yet
    int unknown_ops = 0;          // op puts not completed yet
    bool in_flight = false;       // an end (commit/rollback) is running
    bool copy_stored = false;     // the COMMIT copy was appended (a retry writes only the op record)
  };
  struct Waiter {
    std::string group;
    int32_t max = 32;
    std::chrono::steady_clock::time_point deadline;
    Reply<TransactionChecks> reply;
  };
  using Done = std::function<void(Status)>;

  void run();
  void run_round();
  void load();
  void scan_new_halves();
  void expire_waiters(bool all);
  void serve_waiters();
  // (half queue offset, half commit-log offset) of a due check.
  using DueCheck = std::pair<int64_t, CommitLogOffset>;
  // Requires mu_: up to `max` due checks of `group`, marked not queued.
  std::vector<DueCheck> take_ready_locked(const std::string& group, int32_t max);
  // The halves read back as checks (real topic and queue, the half's offsets), at most
  // kMaxCheckReplyBytes (at least one); those left out are queued again for `group`.
  // Reads the store: worker or service thread only.
  TransactionChecks read_checks(const std::string& group, const std::vector<DueCheck>& halves);
  // Runs `task` on the worker thread; false once stopped (the task is dropped).
  bool post(std::function<void()> task);
  void work();
  // end_transaction after its cheap checks, on the worker thread.
  void do_end(EndTransaction request, Reply<Status> reply);
  void persist_progress();
  // Requires mu_: the progress implied by the state now, given the store's flushed end.
  Progress compute_progress_locked(CommitLogOffset flushed);
  int64_t half_done_locked() const;

  // Store writes; `done` gets the store's answer and the put's durable status: OK only when
  // the store answered OK and after_own_put answered OK.
  void put_tracked(StoredMessage msg, std::function<void(PutResult, Status)> done);
  void write_op(QueueOffset half, CommitLogOffset half_offset, OpKind kind, Done done);
  void finish_end(QueueOffset half, Status status, Reply<Status> reply);
  // A committed copy of a half stored before this start (a crash between the commit put and
  // its op record); found through the key index.
  bool committed_before_boot(const StoredMessage& half);
  void verify_pre_boot_halves();
  // Requires mu_. Keeps the last kRecentOutcomes outcomes for duplicate ends.
  void remember_outcome_locked(int64_t half, OpKind kind);
  void check_half(QueueOffset q, const Pending& p, int64_t round);
  void discard_half(QueueOffset q, const Pending& p, int64_t checks);

  const TransactionOptions options_;
  const std::shared_ptr<MessageStore> store_;
  const std::shared_ptr<BrokerContext> context_;
  const std::shared_ptr<PutPipeline> pipeline_;
  const HostAddress store_host_;
  const std::string progress_path_;
  const std::shared_ptr<spdlog::logger> log_;
  const bool is_slave_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, Pending> pending_;  // half queue offset -> scanned half without outcome
  std::map<int64_t, OpState> ops_;      // half queue offset (>= half done) -> op state
  static constexpr size_t kRecentOutcomes = 100000;
  std::map<int64_t, OpKind> recent_;  // latest final outcomes (also below half done), bounded
  // Half queue offset -> commit-log end of its final op record, until the store flushed it;
  // the saved half offset stays at or below the lowest of these.
  std::map<int64_t, int64_t> unflushed_finals_;
  // Op queue offset -> commit-log end of every appended op record, until the store flushed it;
  // the saved op offset stays at or below the lowest of these (after a power loss those queue
  // offsets are reused by new op records, which the next start must read).
  std::map<int64_t, int64_t> unflushed_ops_;
  int64_t scan_ = 0;             // next half queue offset to read
  Progress persisted_;           // last written progress
  CommitLogOffset boot_end_{0};  // commit-log end when started
  // Due checks per producer group: half queue offsets (the record is read at delivery, so a
  // group nobody polls costs a few bytes per pending half, not its bodies).
  std::map<std::string, std::deque<int64_t>> ready_;
  std::deque<Waiter> waiters_;  // parked polls, oldest first
  bool started_ = false;
  bool stopping_ = false;
  bool round_requested_ = false;
  bool round_running_ = false;
  uint64_t rounds_done_ = 0;
  int inflight_puts_ = 0;
  std::condition_variable idle_cv_;  // inflight_puts_ reached 0, or a round finished
  std::thread thread_;

  // The worker thread: store reads of end_transaction and check-back replies.
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::function<void()>> work_;  // guarded by work_mu_
  bool work_closed_ = true;                 // guarded by work_mu_; open between start and stop
  std::thread worker_;
};

}  // namespace mq::transaction
