// BrokerCore persistence: consumer offsets and topics survive a restart on the same
// store root; atomic JSON writes keep the old file on failure; a corrupt file falls back
// to its .bak; offsets are flushed periodically.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "broker/broker_core.h"
#include "broker/json_file.h"
#include "support/broker_test_util.h"
#include "support/fake_message_store.h"

namespace mq::test {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::trunc);
  out << content;
}

class BrokerPersistenceTest : public ::testing::Test {
 protected:
  std::unique_ptr<kernel::BrokerCore> make_core(kernel::BrokerSettings s) {
    return std::make_unique<kernel::BrokerCore>(std::move(s), std::make_shared<FakeMessageStore>(), quiet_logger());
  }
  std::filesystem::path offsets_file() const { return dir_.path() / "config" / "consumerOffset.json"; }
  std::filesystem::path topics_file() const { return dir_.path() / "config" / "topics.json"; }

  TempDir dir_;
};

TEST_F(BrokerPersistenceTest, OffsetsAndTopicsSurviveRestart) {
  {
    auto core = make_core(test_settings(dir_.path()));
    ASSERT_TRUE(core->start().is_ok());
    ASSERT_TRUE(core->create_topic(TopicConfig{"Orders", 8, 6, kPermRead | kPermWrite}).is_ok());
    ASSERT_TRUE(core->update_consumer_offset("g1", "Orders", 0, 42).is_ok());
    ASSERT_TRUE(core->update_consumer_offset("g1", "Orders", 5, 7).is_ok());
    ASSERT_TRUE(core->update_consumer_offset("g2", "Orders", 0, 0).is_ok());
    core->stop();
  }
  auto core = make_core(test_settings(dir_.path()));
  ASSERT_TRUE(core->start().is_ok());
  EXPECT_EQ(*core->query_consumer_offset("g1", "Orders", 0), 42);
  EXPECT_EQ(*core->query_consumer_offset("g1", "Orders", 5), 7);
  EXPECT_EQ(*core->query_consumer_offset("g2", "Orders", 0), 0);
  EXPECT_EQ(core->query_consumer_offset("g1", "Orders", 1).status().code(), Code::kQueryNotFound);
  auto topics = core->topics();
  ASSERT_EQ(topics.size(), 1u);
  EXPECT_EQ(topics[0], (TopicConfig{"Orders", 8, 6, kPermRead | kPermWrite}));
  core->stop();
}

TEST_F(BrokerPersistenceTest, AutoCreatedTopicIsPersisted) {
  {
    auto core = make_core(test_settings(dir_.path()));
    ASSERT_TRUE(core->start().is_ok());
    ASSERT_TRUE(send_sync(*core, make_send("Auto", {make_message("x")})).status.is_ok());
    ASSERT_TRUE(eventually([&] { return read_file(topics_file()).find("\"Auto\"") != std::string::npos; }))
        << "topic change was not written without waiting for stop()";
    core->stop();
  }
  auto core = make_core(test_settings(dir_.path()));
  ASSERT_TRUE(core->start().is_ok());
  ASSERT_EQ(core->topics().size(), 1u);
  EXPECT_EQ(core->topics()[0].topic_name, "Auto");
}

TEST_F(BrokerPersistenceTest, OffsetsAreFlushedPeriodically) {
  auto s = test_settings(dir_.path());
  s.flush_consumer_offset_interval_ms = 50;
  auto core = make_core(s);
  ASSERT_TRUE(core->start().is_ok());
  ASSERT_TRUE(core->create_topic(TopicConfig{"T", 4, 4, 6}).is_ok());
  ASSERT_TRUE(core->update_consumer_offset("g", "T", 3, 99).is_ok());
  EXPECT_TRUE(eventually([&] {
    auto text = read_file(offsets_file());
    return text.find("T@g") != std::string::npos && text.find("99") != std::string::npos;
  })) << read_file(offsets_file());
  core->stop();
}

TEST_F(BrokerPersistenceTest, CorruptOffsetsFileFallsBackToBackup) {
  for (int64_t v : {10, 20}) {  // two saves: the second keeps the first as .bak
    auto core = make_core(test_settings(dir_.path()));
    ASSERT_TRUE(core->start().is_ok());
    ASSERT_TRUE(core->create_topic(TopicConfig{"T", 1, 1, 6}).is_ok());
    ASSERT_TRUE(core->update_consumer_offset("g", "T", 0, v).is_ok());
    core->stop();
  }
  ASSERT_TRUE(std::filesystem::exists(kernel::backup_path_of(offsets_file())));
  write_file(offsets_file(), "{\"offsetTable\": {\"T@g\": {\"0\": 2");  // torn
  auto core = make_core(test_settings(dir_.path()));
  ASSERT_TRUE(core->start().is_ok());
  EXPECT_EQ(*core->query_consumer_offset("g", "T", 0), 10);
  core->stop();
}

TEST_F(BrokerPersistenceTest, CorruptFileWithoutBackupIsAnErrorNamingTheFile) {
  std::filesystem::create_directories(dir_.path() / "config");
  write_file(topics_file(), "not json at all");
  auto core = make_core(test_settings(dir_.path()));
  Status st = core->start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(topics_file().string()), std::string::npos) << st.message();
}

TEST_F(BrokerPersistenceTest, InvalidTopicInFileIsAnErrorNamingTheTopic) {
  std::filesystem::create_directories(dir_.path() / "config");
  write_file(topics_file(),
             R"({"topicConfigTable": {"Bad": {"readQueueNums": 0, "writeQueueNums": 4, "perm": 6}}})");
  auto core = make_core(test_settings(dir_.path()));
  Status st = core->start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("Bad"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("readQueueNums"), std::string::npos) << st.message();
}

TEST_F(BrokerPersistenceTest, EmptyStoreRootIsRefused) {
  auto core = make_core(test_settings(""));
  Status st = core->start();
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("storePathRootDir"), std::string::npos);
}

TEST(JsonFileTest, FailedTempWriteLeavesOldFileIntact) {
  TempDir dir;
  auto file = dir.path() / "data.json";
  ASSERT_TRUE(kernel::write_file_atomically(file, R"({"v": 1})").is_ok());
  // Make the temp file impossible to create.
  std::filesystem::create_directory(kernel::temp_path_of(file));
  Status st = kernel::write_file_atomically(file, R"({"v": 2})");
  EXPECT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find(kernel::temp_path_of(file).string()), std::string::npos) << st.message();
  EXPECT_EQ(read_file(file), R"({"v": 1})");
}

TEST(JsonFileTest, ReplaceKeepsPreviousVersionAsBackup) {
  TempDir dir;
  auto file = dir.path() / "data.json";
  ASSERT_TRUE(kernel::write_file_atomically(file, "1").is_ok());
  EXPECT_FALSE(std::filesystem::exists(kernel::backup_path_of(file)));
  ASSERT_TRUE(kernel::write_file_atomically(file, "2").is_ok());
  EXPECT_EQ(read_file(file), "2");
  EXPECT_EQ(read_file(kernel::backup_path_of(file)), "1");
  EXPECT_FALSE(std::filesystem::exists(kernel::temp_path_of(file)));
}

TEST(JsonFileTest, LoadFallsBackToBackupAndReportsBothBad) {
  TempDir dir;
  auto file = dir.path() / "data.json";
  auto log = quiet_logger();
  auto missing = kernel::load_json_with_backup(file, *log);
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());

  ASSERT_TRUE(kernel::write_file_atomically(file, R"({"v": 1})").is_ok());
  ASSERT_TRUE(kernel::write_file_atomically(file, R"({"v": 2})").is_ok());
  write_file(file, R"({"v": )");
  auto loaded = kernel::load_json_with_backup(file, *log);
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  EXPECT_EQ((**loaded)["v"], 1);

  write_file(kernel::backup_path_of(file), "garbage");
  auto bad = kernel::load_json_with_backup(file, *log);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find(file.string()), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find(".bak"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace mq::test
