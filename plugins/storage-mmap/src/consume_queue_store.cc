// ConsumeQueueStore: directory walk at load, lookup, creation.
#include "consume_queue_store.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "mq/message.h"

namespace mq::storage_mmap {

namespace fs = std::filesystem;

Status ConsumeQueueStore::load() {
  std::error_code ec;
  existed_ = fs::is_directory(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) return Status::error(Code::kServiceNotAvailable, "cannot create directory " + dir_ + ": " + ec.message());
  std::map<std::pair<std::string, QueueId>, std::shared_ptr<ConsumeQueue>, std::less<>> queues;
  for (const auto& topic_dir : fs::directory_iterator(dir_, ec)) {
    if (!topic_dir.is_directory()) continue;
    std::string topic = topic_dir.path().filename().string();
    if (!validate_topic_name(topic).empty()) continue;
    for (const auto& qdir : fs::directory_iterator(topic_dir.path(), ec)) {
      std::string name = qdir.path().filename().string();
      if (!qdir.is_directory() || name.empty() || name.size() > 9 ||
          !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
        continue;
      QueueId qid = std::stoi(name);
      auto cq = std::make_shared<ConsumeQueue>(topic, qid, qdir.path().string(), file_size_);
      if (Status st = cq->load(); !st) return st;
      queues.emplace(std::make_pair(topic, qid), std::move(cq));
    }
  }
  if (ec) return Status::error(Code::kServiceNotAvailable, "cannot list directory " + dir_ + ": " + ec.message());
  std::unique_lock lock(mu_);
  queues_ = std::move(queues);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::ok();
}

std::shared_ptr<ConsumeQueue> ConsumeQueueStore::find(const std::string& topic, QueueId queue_id) const {
  std::shared_lock lock(mu_);
  auto it = queues_.find(std::make_pair(topic, queue_id));
  return it == queues_.end() ? nullptr : it->second;
}

std::shared_ptr<ConsumeQueue> ConsumeQueueStore::find_or_create(const std::string& topic, QueueId queue_id) {
  if (auto cq = find(topic, queue_id)) return cq;
  std::unique_lock lock(mu_);
  auto& slot = queues_[std::make_pair(topic, queue_id)];
  if (!slot) {
    slot = std::make_shared<ConsumeQueue>(topic, queue_id, dir_ + "/" + topic + "/" + std::to_string(queue_id),
                                          file_size_);
  }
  return slot;
}

std::vector<std::shared_ptr<ConsumeQueue>> ConsumeQueueStore::all() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<ConsumeQueue>> out;
  out.reserve(queues_.size());
  for (const auto& [key, cq] : queues_) out.push_back(cq);
  return out;
}

}  // namespace mq::storage_mmap
