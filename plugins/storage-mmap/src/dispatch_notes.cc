// Dispatch notes: building them on the append path, handing them to the dispatcher.
#include "dispatch_notes.h"

namespace mq::storage_mmap {

void DispatchNoteBatch::add(int64_t offset, int32_t size, const RecordPlan& plan, QueueId queue_id,
                            int64_t queue_offset, int64_t store_timestamp_ms) {
  // Lengths fit their fields: topics are at most 127 bytes (one length byte in the record),
  // properties at most kMaxPropertiesLength. A batch's records share one topic: its text is
  // kept once.
  const PropertyFacts& f = plan.facts;
  uint32_t topic_at;
  if (!notes_.empty() &&
      same_text(plan.topic, std::string_view(text_.data() + notes_.back().topic_at, notes_.back().topic_len))) {
    topic_at = notes_.back().topic_at;
  } else {
    topic_at = static_cast<uint32_t>(text_.size());
    text_.append(plan.topic);
  }
  notes_.push_back(Note{offset, queue_offset, store_timestamp_ms, f.tag_hash, size, queue_id, plan.sys_flag, topic_at,
                        static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(f.keys.size()),
                        static_cast<uint16_t>(f.uniq_key.size()), static_cast<uint8_t>(plan.topic.size())});
  if (!f.keys.empty()) text_.append(f.keys);
  if (!f.uniq_key.empty()) text_.append(f.uniq_key);
}

RecordSummary DispatchNoteBatch::summary(size_t i) const {
  const Note& n = notes_[i];
  const char* text = text_.data() + n.text_at;
  RecordSummary s;
  s.topic = std::string_view(text_.data() + n.topic_at, n.topic_len);
  s.keys = std::string_view(text, n.keys_len);
  s.uniq_key = std::string_view(text + n.keys_len, n.uniq_len);
  s.queue_id = n.queue_id;
  s.queue_offset = n.queue_offset;
  s.sys_flag = n.sys_flag;
  s.store_timestamp_ms = n.store_timestamp_ms;
  s.tag_hash = n.tag_hash;
  return s;
}

void DispatchNoteBatch::append(const DispatchNoteBatch& other) {
  const auto shift = static_cast<uint32_t>(text_.size());
  const size_t first = notes_.size();
  notes_.insert(notes_.end(), other.notes_.begin(), other.notes_.end());
  for (size_t i = first; i < notes_.size(); ++i) {
    notes_[i].topic_at += shift;
    notes_[i].text_at += shift;
  }
  text_.append(other.text_);
}

void DispatchNotes::publish(DispatchNoteBatch& batch) {
  if (batch.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queued_notes_ + batch.size() > kMaxNotes || queued_text_ + batch.text_bytes() > kMaxTextBytes) {
      dropped_.fetch_add(batch.size(), std::memory_order_relaxed);
    } else {
      queued_notes_ += batch.size();
      queued_text_ += batch.text_bytes();
      if (batch.size() < kCopyBelow && !queued_.empty() && queued_.back().size() < kCopyInto) {
        queued_.back().append(batch);
      } else {
        if (spares_.empty()) {
          queued_.emplace_back();
        } else {
          queued_.push_back(std::move(spares_.back()));
          spares_.pop_back();
        }
        queued_.back().swap(batch);  // `batch` gets the spare's capacity
      }
      published_.store(true, std::memory_order_release);
    }
  }
  batch.clear();
}

bool DispatchNotes::take(DispatchNoteBatch& into) {
  if (!has_notes()) return false;
  std::lock_guard lock(mu_);
  if (queued_.empty()) return false;
  into.swap(queued_.front());  // the front now holds `into`'s old, empty buffers
  if (spares_.size() < kMaxSpares) spares_.push_back(std::move(queued_.front()));
  queued_.pop_front();
  queued_notes_ -= into.size();
  queued_text_ -= into.text_bytes();
  published_.store(!queued_.empty(), std::memory_order_release);
  return !into.empty();
}

void DispatchNotes::clear() {
  std::lock_guard lock(mu_);
  queued_.clear();
  queued_notes_ = 0;
  queued_text_ = 0;
  published_.store(false, std::memory_order_release);
}

}  // namespace mq::storage_mmap
