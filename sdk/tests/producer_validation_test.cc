// Producer / PushConsumer input validation: refused locally, before any RPC. The name server
// address points at a closed port, so a request that reached the network would fail with
// RPC_FAILED instead of the expected client-side code.
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include <gtest/gtest.h>

#include "mq/client/producer.h"
#include "mq/client/push_consumer.h"

namespace mq::client {
namespace {

constexpr const char* kDeadNameServer = "127.0.0.1:1";

TEST(ProducerValidation, SendBeforeStartIsIllegalState) {
  Producer p("g");
  EXPECT_EQ(p.send(Message("T", "body")).code, code::kIllegalState);
  EXPECT_EQ(p.send_oneway(Message("T", "body")).code(), code::kIllegalState);
  std::promise<SendResult> done;
  p.send_async(Message("T", "body"), [&](const SendResult& r) { done.set_value(r); });
  EXPECT_EQ(done.get_future().get().code, code::kIllegalState);
}

TEST(ProducerValidation, BadMessagesAreRejectedWithoutRpc) {
  Producer p("g");
  p.set_namesrv_addr(kDeadNameServer);
  p.set_max_message_size(16);
  ASSERT_TRUE(p.start());
  SendResult empty_topic = p.send(Message("", "body"));
  EXPECT_EQ(empty_topic.code, code::kIllegalArgument);
  EXPECT_NE(empty_topic.remark.find("topic"), std::string::npos);
  SendResult empty_body = p.send(Message("T", ""));
  EXPECT_EQ(empty_body.code, code::kIllegalArgument);
  EXPECT_NE(empty_body.remark.find("empty"), std::string::npos);
  SendResult too_big = p.send(Message("T", std::string(17, 'x')));
  EXPECT_EQ(too_big.code, code::kIllegalArgument);
  EXPECT_NE(too_big.remark.find("16"), std::string::npos);
  EXPECT_EQ(p.send(Message("bad topic!", "x")).code, code::kIllegalArgument);
  EXPECT_EQ(p.send(Message(std::string(128, 'a'), "x")).code, code::kIllegalArgument);
  EXPECT_EQ(p.send_oneway(Message("", "x")).code(), code::kIllegalArgument);
  Message forged("T", "x");
  forged.set_property("KEYS", std::string("k\x02"
                                          "DELAY\x01"
                                          "3"));  // would add a DELAY entry
  SendResult refused = p.send(forged);
  EXPECT_EQ(refused.code, code::kIllegalArgument);
  EXPECT_NE(refused.remark.find("property 'KEYS'"), std::string::npos) << refused.remark;
  EXPECT_EQ(p.send_batch({Message("T", "ok"), forged}).code, code::kIllegalArgument);
  // A valid message does reach the network, and fails there.
  SendResult rpc = p.send(Message("T", "fits"));
  EXPECT_EQ(rpc.code, code::kRpcFailed) << rpc.remark;
  EXPECT_FALSE(rpc.msg_id.empty());
  EXPECT_TRUE(p.shutdown());
  EXPECT_EQ(p.send(Message("T", "x")).code, code::kIllegalState);
}

TEST(ProducerValidation, StartChecksConfiguration) {
  ::unsetenv("NAMESRV_ADDR");
  Producer no_ns("g");
  EXPECT_EQ(no_ns.start().code(), code::kNoNameServer);
  Producer bad_ns("g");
  bad_ns.set_namesrv_addr("127.0.0.1:9876;nohostport");
  Status s = bad_ns.start();
  EXPECT_EQ(s.code(), code::kIllegalArgument);
  EXPECT_NE(s.remark().find("nohostport"), std::string::npos);
  Producer no_group("");
  no_group.set_namesrv_addr(kDeadNameServer);
  EXPECT_EQ(no_group.start().code(), code::kIllegalArgument);
  Producer twice("g");
  twice.set_namesrv_addr(kDeadNameServer);
  EXPECT_TRUE(twice.start());
  EXPECT_EQ(twice.start().code(), code::kIllegalState);
}

TEST(ProducerValidation, EnvironmentSuppliesNameServers) {
  ::setenv("NAMESRV_ADDR", kDeadNameServer, 1);
  Producer p("g");
  EXPECT_TRUE(p.start());
  ::unsetenv("NAMESRV_ADDR");
}

TEST(ConsumerValidation, StartRefusesIncompleteOrUnsupportedConfiguration) {
  auto listener = [](const std::vector<MessageExt>&) { return ConsumeStatus::kConsumeSuccess; };
  PushConsumer no_listener("g");
  no_listener.set_namesrv_addr(kDeadNameServer);
  no_listener.subscribe("T", "*");
  EXPECT_EQ(no_listener.start().code(), code::kIllegalArgument);

  PushConsumer no_subscription("g");
  no_subscription.set_namesrv_addr(kDeadNameServer);
  no_subscription.register_message_listener(listener);
  EXPECT_EQ(no_subscription.start().code(), code::kIllegalArgument);

  // Broadcasting is supported (issue 4): it starts and writes its local offset file on shutdown.
  char dir_template[] = "/tmp/sdk_broadcast_XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  PushConsumer broadcasting("g");
  broadcasting.set_namesrv_addr(kDeadNameServer);
  broadcasting.subscribe("T", "*");
  broadcasting.register_message_listener(listener);
  broadcasting.set_message_model(MessageModel::kBroadcasting);
  broadcasting.set_offset_store_dir(dir + "/offsets");
  EXPECT_TRUE(broadcasting.start());
  EXPECT_TRUE(broadcasting.shutdown());
  EXPECT_TRUE(std::filesystem::exists(dir + "/offsets/offsets.json"));
  std::filesystem::remove_all(dir);

  PushConsumer bad_expression("g");
  bad_expression.set_namesrv_addr(kDeadNameServer);
  bad_expression.subscribe("T", "||");
  bad_expression.register_message_listener(listener);
  EXPECT_EQ(bad_expression.start().code(), code::kIllegalArgument);
}

TEST(ConsumerValidation, StartsAndShutsDownCleanlyWithoutReachableServers) {
  PushConsumer c("g");
  c.set_namesrv_addr(kDeadNameServer);
  c.subscribe("T", "TagA || TagB");
  c.register_message_listener([](const std::vector<MessageExt>&) { return ConsumeStatus::kConsumeSuccess; });
  EXPECT_TRUE(c.start());  // routes are retried in the background, as RocketMQ does
  EXPECT_EQ(c.start().code(), code::kIllegalState);
  EXPECT_TRUE(c.shutdown());
  EXPECT_TRUE(c.shutdown());  // idempotent
  EXPECT_NE(c.client_id().find('@'), std::string::npos);
}

}  // namespace
}  // namespace mq::client
