// TransactionPlugin with the testkit's fake kernel and in-memory store: the hook, commit /
// rollback / unknown, refusals, duplicates, check-back polls, max checks and restarts.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/program_options/parsers.hpp>

#include "half_message.h"
#include "mq/testkit/forwarding_message_store.h"
#include "mq/testkit/fake_host.h"
#include "mq/testkit/fake_message_store.h"
#include "mq/transaction_service.h"
#include "transaction_plugin.h"

namespace mq::transaction {
namespace {

namespace po = boost::program_options;
using namespace std::chrono_literals;
using testkit::FakeKernel;
using testkit::FakeMessageStore;

const char* const kTopic = "Orders";
const char* const kGroup = "pg";

struct Half {
  PutResult put;
  std::string msg_id;
};

// A MessageStore over the fake whose flushed end can lag behind its end (ASYNC_FLUSH), whose
// op-record puts can answer a status such as FLUSH_DISK_TIMEOUT (appended, not known
// durable), and which records the threads that call read_at.
class ControlledStore final : public testkit::ForwardingMessageStore {
 public:
  using ForwardingMessageStore::ForwardingMessageStore;

  void put(StoredMessage msg, PutCallback done) override {
    const bool op = msg.topic == kTransactionOpHalfTopic;
    inner().put(std::move(msg), [this, op, done = std::move(done)](PutResult r) {
      {
        std::lock_guard lock(mu_);
        if (op && r.status.is_ok() && op_status_) r.status = *op_status_;
      }
      done(std::move(r));
    });
  }
  Result<StoredMessage> read_at(CommitLogOffset offset) override {
    {
      std::lock_guard lock(mu_);
      read_threads_.push_back(std::this_thread::get_id());
    }
    return inner().read_at(offset);
  }
  StoreStats stats() override {
    StoreStats s = inner().stats();
    std::lock_guard lock(mu_);
    if (flush_cap_) s.flushed_commit_log_offset = std::min(s.flushed_commit_log_offset, *flush_cap_);
    return s;
  }

  // The flushed end stays at most here (nullopt: flushed = end).
  void cap_flushed(std::optional<CommitLogOffset> cap) {
    std::lock_guard lock(mu_);
    flush_cap_ = cap;
  }
  // Op-record puts that the fake appended answer `status` (nullopt: OK).
  void answer_op_puts_with(std::optional<Status> status) {
    std::lock_guard lock(mu_);
    op_status_ = std::move(status);
  }
  std::vector<std::thread::id> read_threads() {
    std::lock_guard lock(mu_);
    return read_threads_;
  }

 private:
  std::mutex mu_;
  std::optional<CommitLogOffset> flush_cap_;
  std::optional<Status> op_status_;
  std::vector<std::thread::id> read_threads_;
};

// An after-store hook (a SYNC_MASTER's wait for a slave) answering a settable status.
class SettableAfterHook final : public AfterStoreHook {
 public:
  void after_store(const StoredRange& stored, std::function<void(Status)> done) override {
    Status st;
    {
      std::lock_guard lock(mu_);
      ++calls_;
      last_ = stored;
      st = status_;
    }
    done(std::move(st));
  }
  void answer(Status st) {
    std::lock_guard lock(mu_);
    status_ = std::move(st);
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  Status status_;
  int calls_ = 0;
  StoredRange last_;
};

// One broker "process": a fake kernel and the plugin over a store and directory that
// outlive it, so a test can stop it and start another one (a restart).
class Broker {
 public:
  // `provided` (default: `store`) is the MessageStore the plugin sees.
  Broker(std::shared_ptr<FakeMessageStore> store, const std::string& root, std::vector<std::string> args,
         std::shared_ptr<MessageStore> provided = nullptr)
      : store_(std::move(store)) {
    kernel_.host.mutable_identity().store_root = root;
    kernel_.host.mutable_identity().broker_address = HostAddress{0x7F000001, 10911};
    if (!provided) provided = store_;
    EXPECT_TRUE(kernel_.registry.provide<MessageStore>(provided, "test").is_ok());
    po::options_description desc;
    declare_transaction_options(desc);
    po::variables_map vm;
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
    EXPECT_TRUE(plugin_.configure(vm).is_ok());
    EXPECT_TRUE(plugin_.init(kernel_.registry, kernel_.host).is_ok());
    EXPECT_TRUE(plugin_.start().is_ok());
    service_ = kernel_.registry.find<TransactionService>();
  }
  ~Broker() { plugin_.stop(); }

  // What the kernel's send path does for a transactional send: hooks, then put.
  Half send_prepared(const std::string& body, const std::string& group = kGroup, QueueId queue = 1,
                     const std::string& immunity_s = "") {
    StoredMessage m;
    m.topic = kTopic;
    m.queue_id = queue;
    m.body = body;
    m.sys_flag = kTransactionPreparedType;
    m.set_property(prop::kProducerGroup, group);
    m.set_property(prop::kUniqKey, "ID-" + body);
    if (!immunity_s.empty()) m.set_property(tprop::kCheckImmunitySeconds, immunity_s);
    EXPECT_TRUE(kernel_.pipeline->run_before_store(m).is_ok());
    std::promise<PutResult> done;
    store_->put(std::move(m), [&](PutResult r) { done.set_value(std::move(r)); });
    return Half{done.get_future().get(), "ID-" + body};
  }

  Status end(const Half& h, int32_t type, const std::string& group = kGroup, bool from_check = false) {
    EndTransaction req;
    req.producer_group = group;
    req.half_offset = h.put.commit_log_offset;
    req.half_queue_offset = h.put.queue_offset;
    req.msg_id = h.msg_id;
    req.commit_or_rollback = type;
    req.from_transaction_check = from_check;
    std::promise<Status> done;
    service_->end_transaction(req, [&](Status st) { done.set_value(std::move(st)); });
    Status st = done.get_future().get();
    store_->drain();
    return st;
  }

  TransactionChecks poll(int64_t timeout_ms, const std::string& group = kGroup) {
    std::promise<TransactionChecks> done;
    poll_async(timeout_ms, group, [&](TransactionChecks c) { done.set_value(std::move(c)); });
    return done.get_future().get();
  }
  void poll_async(int64_t timeout_ms, const std::string& group, Reply<TransactionChecks> reply) {
    TransactionCheckPoll req;
    req.producer_group = group;
    req.client_id = "client-1";
    req.timeout_ms = timeout_ms;
    service_->poll_checks(req, std::move(reply));
  }

  void round() {
    plugin_.store()->check_now();
    store_->drain();
  }
  TransactionStore& tx() { return *plugin_.store(); }
  FakeKernel& kernel() { return kernel_; }

 private:
  std::shared_ptr<FakeMessageStore> store_;
  FakeKernel kernel_;
  TransactionPlugin plugin_;
  std::shared_ptr<TransactionService> service_;
};

class TransactionStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/txn-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  // Rounds only on check_now(); halves are due at once unless args say otherwise.
  std::unique_ptr<Broker> broker(std::vector<std::string> extra = {},
                                 std::shared_ptr<MessageStore> provided = nullptr) {
    std::vector<std::string> args = std::move(extra);
    auto given = [&](const std::string& key) {
      for (const auto& a : args)
        if (a.rfind("--transaction." + key + "=", 0) == 0) return true;
      return false;
    };
    if (!given("transactionTimeout")) args.push_back("--transaction.transactionTimeout=0");
    if (!given("transactionCheckInterval")) args.push_back("--transaction.transactionCheckInterval=3600000");
    return std::make_unique<Broker>(store_, root_, args, std::move(provided));
  }
  std::vector<StoredMessage> visible(QueueId queue = 1) { return store_->messages(kTopic, queue); }

  std::shared_ptr<FakeMessageStore> store_ = std::make_shared<FakeMessageStore>();
  std::string root_;
};

TEST_F(TransactionStoreTest, PreparedSendIsStoredAsHalfAndInvisible) {
  auto b = broker();
  Half h = b->send_prepared("a");
  EXPECT_TRUE(visible().empty());
  auto halves = store_->messages(std::string(kTransactionHalfTopic), 0);
  ASSERT_EQ(halves.size(), 1u);
  EXPECT_EQ(halves[0].property(prop::kRealTopic), kTopic);
  EXPECT_EQ(halves[0].property(prop::kRealQueueId), "1");
  EXPECT_EQ(h.put.queue_offset, QueueOffset(0));
  EXPECT_EQ(b->kernel().pipeline->before_count(), 1u);
}

TEST_F(TransactionStoreTest, CommitStoresTheRealMessageExactlyOnce) {
  auto b = broker();
  Half h = b->send_prepared("a");
  ASSERT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  auto msgs = visible();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].body, "a");
  EXPECT_EQ(msgs[0].sys_flag & kTransactionTypeMask, kTransactionCommitType);
  EXPECT_EQ(msgs[0].prepared_transaction_offset, h.put.commit_log_offset);
  EXPECT_TRUE(msgs[0].property(prop::kRealTopic).empty());
  // A duplicate commit (e.g. the producer's end and a check answer) answers OK, stores nothing.
  EXPECT_TRUE(b->end(h, kTransactionCommitType, kGroup, true).is_ok());
  EXPECT_EQ(visible().size(), 1u);
  // The opposite outcome is refused.
  EXPECT_EQ(b->end(h, kTransactionRollbackType).code(), Code::kTransactionFailed);
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 0u);
  EXPECT_EQ(b->tx().progress().half_offset, 1);
  // After the progress point passed the half, a late duplicate is still answered OK.
  EXPECT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  EXPECT_EQ(visible().size(), 1u);
}

TEST_F(TransactionStoreTest, RollbackStoresNothingAndResolvesTheHalf) {
  auto b = broker();
  Half h = b->send_prepared("r");
  ASSERT_TRUE(b->end(h, kTransactionRollbackType).is_ok());
  EXPECT_TRUE(b->end(h, kTransactionRollbackType).is_ok());
  EXPECT_EQ(b->end(h, kTransactionCommitType).code(), Code::kTransactionFailed);
  b->round();
  EXPECT_TRUE(visible().empty());
  EXPECT_EQ(b->tx().pending_count(), 0u);
  EXPECT_TRUE(b->poll(0).checks.empty());
}

TEST_F(TransactionStoreTest, UnknownLeavesTheHalfForCheckBack) {
  auto b = broker();
  Half h = b->send_prepared("u");
  ASSERT_TRUE(b->end(h, kTransactionNotType).is_ok());
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 1u);
  EXPECT_TRUE(visible().empty());
  auto checks = b->poll(0);
  ASSERT_EQ(checks.checks.size(), 1u);
}

TEST_F(TransactionStoreTest, WrongGroupUnknownHalfAndWrongIdAreRefused) {
  auto b = broker();
  Half h = b->send_prepared("g");
  Status wrong_group = b->end(h, kTransactionCommitType, "other-group");
  EXPECT_EQ(wrong_group.code(), Code::kTransactionFailed);
  EXPECT_NE(wrong_group.message().find("belongs to producer group 'pg'"), std::string::npos) << wrong_group.message();

  Half missing = h;
  missing.put.commit_log_offset = CommitLogOffset(987654);
  EXPECT_EQ(b->end(missing, kTransactionCommitType).code(), Code::kQueryNotFound);

  Half wrong_queue_offset = h;
  wrong_queue_offset.put.queue_offset = QueueOffset(5);
  EXPECT_EQ(b->end(wrong_queue_offset, kTransactionCommitType).code(), Code::kQueryNotFound);

  Half wrong_id = h;
  wrong_id.msg_id = "ID-other";
  EXPECT_EQ(b->end(wrong_id, kTransactionCommitType).code(), Code::kTransactionFailed);

  // A plain (non-half) message is not a half either.
  StoredMessage plain;
  plain.topic = kTopic;
  plain.queue_id = 0;
  plain.body = "plain";
  std::promise<PutResult> put;
  store_->put(plain, [&](PutResult r) { put.set_value(r); });
  Half not_half{put.get_future().get(), ""};
  EXPECT_EQ(b->end(not_half, kTransactionCommitType).code(), Code::kQueryNotFound);

  EXPECT_EQ(b->end(h, 5).code(), Code::kInvalidParameter);
  EXPECT_TRUE(visible().empty());
  EXPECT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  EXPECT_EQ(visible().size(), 1u);
}

TEST_F(TransactionStoreTest, DueHalfIsHandedToAPollerWhoseAnswerCommits) {
  auto b = broker();
  Half h = b->send_prepared("c");
  Half other_group = b->send_prepared("o", "pg2");
  EXPECT_TRUE(b->poll(0).checks.empty());  // nothing due before a round
  b->round();
  auto got = b->poll(0);
  ASSERT_EQ(got.checks.size(), 1u);
  const StoredMessage& m = got.checks[0].message;
  EXPECT_EQ(m.topic, kTopic);
  EXPECT_EQ(m.queue_id, 1);
  EXPECT_EQ(m.commit_log_offset, h.put.commit_log_offset);
  EXPECT_EQ(m.queue_offset, h.put.queue_offset);
  EXPECT_EQ(m.body, "c");
  EXPECT_EQ(got.checks[0].transaction_id, "ID-c");
  EXPECT_TRUE(b->poll(0).checks.empty());  // handed out once per round
  EXPECT_EQ(b->tx().check_times(h.put.queue_offset), 1);

  Half from_check{PutResult{}, std::string(m.property(prop::kUniqKey))};
  from_check.put.commit_log_offset = m.commit_log_offset;
  from_check.put.queue_offset = m.queue_offset;
  ASSERT_TRUE(b->end(from_check, kTransactionCommitType, kGroup, true).is_ok());
  EXPECT_EQ(visible().size(), 1u);
  ASSERT_EQ(b->poll(0, "pg2").checks.size(), 1u);
  (void)other_group;
}

TEST_F(TransactionStoreTest, ParkedPollIsAnsweredWhenACheckBecomesDue) {
  auto b = broker();
  b->send_prepared("p");
  std::promise<TransactionChecks> done;
  auto future = done.get_future();
  b->poll_async(30000, kGroup, [&](TransactionChecks c) { done.set_value(std::move(c)); });
  EXPECT_EQ(future.wait_for(50ms), std::future_status::timeout);
  b->round();
  ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(future.get().checks.size(), 1u);
}

TEST_F(TransactionStoreTest, ParkedPollTimesOutEmpty) {
  auto b = broker();
  auto start = std::chrono::steady_clock::now();
  auto got = b->poll(200);
  EXPECT_TRUE(got.status.is_ok());
  EXPECT_TRUE(got.checks.empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
}

TEST_F(TransactionStoreTest, YoungAndImmuneHalvesAreNotChecked) {
  auto b = broker({"--transaction.transactionTimeout=3600000"});
  b->send_prepared("young");
  b->round();
  EXPECT_TRUE(b->poll(0).checks.empty());
  EXPECT_EQ(b->tx().pending_count(), 1u);
}

TEST_F(TransactionStoreTest, ImmunityPropertyDelaysTheFirstCheck) {
  auto b = broker();
  b->send_prepared("immune", kGroup, 1, "3600");
  Half due = b->send_prepared("due");
  b->round();
  auto got = b->poll(0);
  ASSERT_EQ(got.checks.size(), 1u);
  EXPECT_EQ(got.checks[0].message.queue_offset, due.put.queue_offset);
}

TEST_F(TransactionStoreTest, HalfCheckedMaxTimesMovesToCheckMaxTopic) {
  auto b = broker({"--transaction.transactionCheckMax=3"});
  Half h = b->send_prepared("m");
  for (int i = 0; i < 3; ++i) b->round();
  EXPECT_EQ(b->tx().check_times(h.put.queue_offset), 3);
  EXPECT_TRUE(store_->messages(std::string(kCheckMaxTimeTopic), 0).empty());
  b->round();
  auto moved = store_->messages(std::string(kCheckMaxTimeTopic), 0);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].body, "m");
  EXPECT_EQ(moved[0].property(prop::kRealTopic), kTopic);
  EXPECT_EQ(moved[0].property(prop::kProducerGroup), kGroup);
  EXPECT_EQ(moved[0].property(tprop::kCheckTimes), "3");
  EXPECT_EQ(b->tx().pending_count(), 0u);
  bool topic_created = false;
  for (const auto& t : b->kernel().context->topics()) topic_created |= t.topic_name == kCheckMaxTimeTopic;
  EXPECT_TRUE(topic_created);
  // A late commit of a discarded half is refused; nothing becomes visible.
  Status late = b->end(h, kTransactionCommitType);
  EXPECT_EQ(late.code(), Code::kTransactionFailed);
  EXPECT_NE(late.message().find("mqadmin"), std::string::npos);
  EXPECT_TRUE(visible().empty());
  b->round();
  EXPECT_EQ(store_->messages(std::string(kCheckMaxTimeTopic), 0).size(), 1u);
}

TEST_F(TransactionStoreTest, RestartResumesPendingHalvesWithTheirCheckCounts) {
  Half committed, pending1, pending2, rolled;
  {
    auto b = broker();
    committed = b->send_prepared("c1");
    pending1 = b->send_prepared("p1");
    rolled = b->send_prepared("r1");
    pending2 = b->send_prepared("p2");
    ASSERT_TRUE(b->end(committed, kTransactionCommitType).is_ok());
    ASSERT_TRUE(b->end(rolled, kTransactionRollbackType).is_ok());
    b->round();
    b->round();
    EXPECT_EQ(b->tx().check_times(pending1.put.queue_offset), 2);
    EXPECT_EQ(b->tx().pending_count(), 2u);
  }
  auto b = broker();
  EXPECT_EQ(b->tx().pending_count(), 2u);
  EXPECT_EQ(b->tx().progress().half_offset, 1);  // the first half (committed) is done
  EXPECT_EQ(b->tx().check_times(pending1.put.queue_offset), 2);
  EXPECT_EQ(b->tx().check_times(pending2.put.queue_offset), 2);
  b->round();
  auto got = b->poll(0);
  ASSERT_EQ(got.checks.size(), 2u);
  EXPECT_EQ(got.checks[0].message.body, "p1");
  EXPECT_EQ(got.checks[1].message.body, "p2");
  // Outcomes recorded before the restart still hold.
  EXPECT_TRUE(b->end(committed, kTransactionCommitType).is_ok());
  EXPECT_EQ(b->end(rolled, kTransactionCommitType).code(), Code::kTransactionFailed);
  ASSERT_TRUE(b->end(pending1, kTransactionCommitType).is_ok());
  ASSERT_TRUE(b->end(pending2, kTransactionRollbackType).is_ok());
  auto msgs = visible();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_EQ(msgs[0].body, "c1");
  EXPECT_EQ(msgs[1].body, "p1");
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 0u);
  EXPECT_EQ(b->tx().progress().half_offset, 4);
  b.reset();
  auto again = broker();
  EXPECT_EQ(again->tx().pending_count(), 0u);
  again->round();
  EXPECT_TRUE(again->poll(0).checks.empty());
}

TEST_F(TransactionStoreTest, CrashBetweenCommitPutAndOpRecordNeverDuplicates) {
  Half h;
  {
    auto b = broker();
    h = b->send_prepared("crash");
  }
  // Simulate a crash after the committed copy was stored but before its op record.
  auto half = store_->read_at(h.put.commit_log_offset);
  ASSERT_TRUE(half);
  std::promise<PutResult> put;
  store_->put(*committed_from_half(*half), [&](PutResult r) { put.set_value(r); });
  put.get_future().get();
  ASSERT_EQ(visible().size(), 1u);

  auto b = broker();
  EXPECT_EQ(b->tx().pending_count(), 1u);
  EXPECT_TRUE(b->end(h, kTransactionCommitType).is_ok());  // a re-commit finds the stored copy
  EXPECT_EQ(visible().size(), 1u);
  EXPECT_EQ(b->tx().pending_count(), 0u);
}

TEST_F(TransactionStoreTest, CrashBetweenCommitPutAndOpRecordIsResolvedByTheCheckRound) {
  Half h;
  {
    auto b = broker();
    h = b->send_prepared("crash2");
  }
  auto half = store_->read_at(h.put.commit_log_offset);
  ASSERT_TRUE(half);
  std::promise<PutResult> put;
  store_->put(*committed_from_half(*half), [&](PutResult r) { put.set_value(r); });
  put.get_future().get();

  auto b = broker();
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 0u);
  EXPECT_TRUE(b->poll(0).checks.empty());  // never asked: it is committed
  EXPECT_EQ(visible().size(), 1u);
}

TEST_F(TransactionStoreTest, ManyTransactionsAdvanceTheProgressFile) {
  auto b = broker();
  std::vector<Half> halves;
  for (int i = 0; i < 50; ++i) {
    std::string body = "m";
    body += std::to_string(i);  // (not "m" + to_string: GCC 12 -Wrestrict false positive)
    halves.push_back(b->send_prepared(body));
  }
  for (size_t i = 0; i < halves.size(); ++i)
    ASSERT_TRUE(b->end(halves[i], i % 2 ? kTransactionRollbackType : kTransactionCommitType).is_ok());
  b->round();
  EXPECT_EQ(b->tx().progress().half_offset, 50);
  EXPECT_EQ(b->tx().progress().op_offset, 50);
  EXPECT_EQ(visible().size(), 25u);
  EXPECT_TRUE(std::filesystem::exists(root_ + "/config/transactionProgress.json"));
}

TEST_F(TransactionStoreTest, ProgressNeverPassesAFinalOpTheStoreHasNotFlushed) {
  auto controlled = std::make_shared<ControlledStore>(store_);
  auto b = broker({}, controlled);
  Half h = b->send_prepared("async");
  // ASYNC_FLUSH: the store answers OK for bytes still in the page cache.
  controlled->cap_flushed(store_->stats().max_commit_log_offset);
  ASSERT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 0u);
  EXPECT_EQ(b->tx().progress().half_offset, 0);  // the COMMIT op record is not on disk yet
  EXPECT_EQ(b->tx().progress().op_offset, 0);
  controlled->cap_flushed(std::nullopt);  // the flush caught up
  b->round();
  EXPECT_EQ(b->tx().progress().half_offset, 1);
  EXPECT_EQ(b->tx().progress().op_offset, 1);
}

TEST_F(TransactionStoreTest, FlushDiskTimeoutOnTheOpRecordIsNotSuccessAndTheHalfStaysPending) {
  auto controlled = std::make_shared<ControlledStore>(store_);
  auto b = broker({}, controlled);
  Half h = b->send_prepared("fdt");
  Half r = b->send_prepared("fdt-rollback");
  controlled->answer_op_puts_with(Status(Code::kFlushDiskTimeout, "flush timed out"));
  EXPECT_EQ(b->end(h, kTransactionCommitType).code(), Code::kFlushDiskTimeout);
  EXPECT_EQ(b->end(r, kTransactionRollbackType).code(), Code::kFlushDiskTimeout);
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 2u);
  EXPECT_EQ(b->tx().progress().half_offset, 0);
  EXPECT_EQ(b->poll(0).checks.size(), 2u);  // still checked back
  // The disk recovers: a retry records the outcome without a second committed copy.
  controlled->answer_op_puts_with(std::nullopt);
  ASSERT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  ASSERT_TRUE(b->end(r, kTransactionRollbackType).is_ok());
  EXPECT_EQ(visible().size(), 1u);
  EXPECT_EQ(b->tx().pending_count(), 0u);
  b->round();
  EXPECT_EQ(b->tx().progress().half_offset, 2);
}

TEST_F(TransactionStoreTest, OwnPutsRunTheAfterStoreHooksAndTheirFailureIsTheReply) {
  auto b = broker();
  auto hook = std::make_shared<SettableAfterHook>();
  b->kernel().pipeline->add_after_store(hook);
  Half h = b->send_prepared("sync-master");
  hook->answer(Status(Code::kFlushSlaveTimeout, "slave did not confirm"));
  EXPECT_EQ(b->end(h, kTransactionCommitType).code(), Code::kFlushSlaveTimeout);
  EXPECT_GE(hook->calls(), 1);
  b->round();
  EXPECT_EQ(b->tx().pending_count(), 1u);
  EXPECT_EQ(b->tx().progress().half_offset, 0);
  hook->answer(Status::ok());
  ASSERT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  EXPECT_EQ(visible().size(), 1u);  // the copy appended by the first attempt is not stored again
  EXPECT_EQ(b->tx().pending_count(), 0u);
  b->round();
  EXPECT_EQ(b->tx().progress().half_offset, 1);
}

TEST_F(TransactionStoreTest, EndAndPollNeverReadTheStoreOnTheCallersThread) {
  auto controlled = std::make_shared<ControlledStore>(store_);
  auto b = broker({}, controlled);
  Half h = b->send_prepared("t1");
  Half h2 = b->send_prepared("t2");
  b->round();
  ASSERT_EQ(b->poll(0).checks.size(), 2u);
  ASSERT_TRUE(b->end(h, kTransactionCommitType).is_ok());
  ASSERT_TRUE(b->end(h2, kTransactionRollbackType).is_ok());
  const auto threads = controlled->read_threads();
  ASSERT_FALSE(threads.empty());
  for (const auto& t : threads) EXPECT_NE(t, std::this_thread::get_id());
}

TEST_F(TransactionStoreTest, CheckRepliesAreCappedByBytes) {
  auto b = broker();
  const std::string big(600 * 1024, 'x');
  for (int i = 0; i < 3; ++i) b->send_prepared(big + std::to_string(i));
  for (int i = 0; i < 4; ++i) b->send_prepared("small" + std::to_string(i), "pg-small");
  b->round();
  for (int i = 0; i < 3; ++i) {
    auto got = b->poll(0);
    ASSERT_EQ(got.checks.size(), 1u) << "poll " << i;                // 2 x 600 KiB exceed the 1 MiB reply cap
    EXPECT_EQ(got.checks[0].message.body, big + std::to_string(i));  // order kept
  }
  EXPECT_TRUE(b->poll(0).checks.empty());
  EXPECT_EQ(b->poll(0, "pg-small").checks.size(), 4u);
}

TEST_F(TransactionStoreTest, HalfNamingASystemTopicIsNeverCommittedThere) {
  auto b = broker();
  // A half stored without the hook's checks (e.g. written by an older broker).
  StoredMessage m;
  m.topic = std::string(kTransactionHalfTopic);
  m.queue_id = 0;
  m.body = "evil";
  m.set_property(prop::kProducerGroup, kGroup);
  m.set_property(prop::kUniqKey, "ID-evil");
  m.set_property(prop::kRealTopic, "SCHEDULE_TOPIC_XXXX");
  m.set_property(prop::kRealQueueId, "2");
  m.set_property(prop::kTransactionPrepared, "true");
  std::promise<PutResult> put;
  store_->put(m, [&](PutResult r) { put.set_value(r); });
  Half h{put.get_future().get(), "ID-evil"};
  Status st = b->end(h, kTransactionCommitType);
  EXPECT_EQ(st.code(), Code::kTransactionFailed);
  EXPECT_NE(st.message().find("system topic"), std::string::npos) << st.message();
  EXPECT_TRUE(store_->messages("SCHEDULE_TOPIC_XXXX", 2).empty());
  b->round();
  EXPECT_TRUE(b->poll(0).checks.empty());  // not handed to a checker either
}

TEST_F(TransactionStoreTest, SlaveAnswersSlaveNotAvailable) {
  FakeKernel kernel;
  TransactionStore slave(TransactionOptions{}, store_, kernel.context, kernel.pipeline, HostAddress{},
                         root_ + "/p.json", kernel.host.logger("transaction"), /*is_slave=*/true);
  ASSERT_TRUE(slave.start().is_ok());
  std::promise<Status> ended;
  slave.end_transaction(EndTransaction{}, [&](Status st) { ended.set_value(std::move(st)); });
  EXPECT_EQ(ended.get_future().get().code(), Code::kSlaveNotAvailable);
  std::promise<TransactionChecks> polled;
  slave.poll_checks(TransactionCheckPoll{kGroup, "c", 32, 1000},
                    [&](TransactionChecks c) { polled.set_value(std::move(c)); });
  EXPECT_EQ(polled.get_future().get().status.code(), Code::kSlaveNotAvailable);
  slave.stop();
}

}  // namespace
}  // namespace mq::transaction
