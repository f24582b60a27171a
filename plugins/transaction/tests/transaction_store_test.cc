// TransactionPlugin with the testkit's fake kernel and in-memory store: the hook, commit /
// rollback / unknown, refusals, duplicates, check-back polls, max checks and restarts.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <boost/program_options/parsers.hpp>

#include "half_message.h"
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

// One broker "process": a fake kernel and the plugin over a store and directory that
// outlive it, so a test can stop it and start another one (a restart).
class Broker {
 public:
  Broker(std::shared_ptr<FakeMessageStore> store, const std::string& root, std::vector<std::string> args)
      : store_(std::move(store)) {
    kernel_.host.mutable_identity().store_root = root;
    kernel_.host.mutable_identity().broker_address = HostAddress{0x7F000001, 10911};
    EXPECT_TRUE(kernel_.registry.provide<MessageStore>(store_, "test").is_ok());
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
  std::unique_ptr<Broker> broker(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = std::move(extra);
    auto given = [&](const std::string& key) {
      for (const auto& a : args)
        if (a.rfind("--transaction." + key + "=", 0) == 0) return true;
      return false;
    };
    if (!given("transactionTimeout")) args.push_back("--transaction.transactionTimeout=0");
    if (!given("transactionCheckInterval")) args.push_back("--transaction.transactionCheckInterval=3600000");
    return std::make_unique<Broker>(store_, root_, args);
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
  store_->put(committed_from_half(*half), [&](PutResult r) { put.set_value(r); });
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
  store_->put(committed_from_half(*half), [&](PutResult r) { put.set_value(r); });
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

TEST_F(TransactionStoreTest, SlaveAnswersSlaveNotAvailable) {
  FakeKernel kernel;
  TransactionStore slave(TransactionOptions{}, store_, kernel.context, HostAddress{}, root_ + "/p.json",
                         kernel.host.logger("transaction"), /*is_slave=*/true);
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
