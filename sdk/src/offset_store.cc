// OffsetStore implementation.
#include "offset_store.h"

namespace mq::client {

void OffsetStore::update(const MessageQueue& queue, int64_t offset, bool increase_only) {
  if (offset < 0) return;
  std::lock_guard lock(mu_);
  Entry& e = entries_[queue];
  if (!increase_only || offset > e.offset) e.offset = offset;
}

int64_t OffsetStore::read(const MessageQueue& queue) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(queue);
  return it == entries_.end() ? -1 : it->second.offset;
}

void OffsetStore::remove(const MessageQueue& queue) {
  std::lock_guard lock(mu_);
  entries_.erase(queue);
}

std::map<MessageQueue, int64_t> OffsetStore::to_persist() const {
  std::lock_guard lock(mu_);
  std::map<MessageQueue, int64_t> out;
  for (const auto& [queue, e] : entries_) {
    if (e.offset >= 0 && e.offset != e.persisted) out.emplace(queue, e.offset);
  }
  return out;
}

void OffsetStore::mark_persisted(const MessageQueue& queue, int64_t offset) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(queue);
  if (it != entries_.end()) it->second.persisted = offset;
}

}  // namespace mq::client
