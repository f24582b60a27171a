// AuditWriter: queue of stored ranges -> records read back from the store -> audit lines.
#include "audit_writer.h"

#include <cerrno>
#include <cstring>
#include <utility>

namespace audit {

std::string format_audit_line(const mq::StoredMessage& msg) {
  std::string line;
  line.reserve(160 + msg.topic.size());
  line += "storeTime=" + std::to_string(msg.store_timestamp_ms);
  line += " topic=" + msg.topic;
  line += " queueId=" + std::to_string(msg.queue_id);
  line += " queueOffset=" + std::to_string(msg.queue_offset.value());
  line += " offsetMsgId=" + mq::make_offset_msg_id(msg.store_host, msg.commit_log_offset);
  line += " msgId=" + std::string(msg.property(mq::prop::kUniqKey));
  line += " tags=" + std::string(msg.tags());
  line += " keys=" + std::string(msg.keys());
  line += " bodySize=" + std::to_string(msg.body.size());
  line += '\n';
  return line;
}

AuditWriter::AuditWriter(std::shared_ptr<mq::MessageStore> store, AuditOptions options,
                         std::shared_ptr<spdlog::logger> log)
    : store_(std::move(store)), options_(std::move(options)), log_(std::move(log)) {}

AuditWriter::~AuditWriter() {
  stop();
}

mq::Status AuditWriter::open() {
  file_ = std::fopen(options_.file.c_str(), "a");
  if (file_ == nullptr)
    return mq::Status::invalid("[audit] file=" + options_.file + ": cannot open for appending: " +
                               std::strerror(errno) + "; fix the path or its permissions");
  return mq::Status::ok();
}

void AuditWriter::start() {
  thread_ = std::thread([this] { run(); });
}

bool AuditWriter::enqueue(const mq::StoredRange& range) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || static_cast<int64_t>(queue_.size()) >= options_.queue_capacity) {
      ++dropped_;
      return false;
    }
    queue_.push_back(range);
  }
  cv_.notify_one();
  return true;
}

void AuditWriter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable() && file_ == nullptr) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) {
    thread_.join();
  } else if (file_ != nullptr) {
    run();  // never started: write what was queued, on this thread
  }
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  store_.reset();
}

uint64_t AuditWriter::lines_written() const {
  std::lock_guard lock(mu_);
  return lines_;
}

uint64_t AuditWriter::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void AuditWriter::run() {
  std::deque<mq::StoredRange> batch;
  for (;;) {
    uint64_t newly_dropped = 0;
    bool last = false;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      batch.swap(queue_);
      newly_dropped = dropped_ - dropped_reported_;
      dropped_reported_ = dropped_;
      last = stopping_ && batch.empty();
    }
    std::string out;
    if (newly_dropped > 0) {
      out += "# DROPPED " + std::to_string(newly_dropped) + " stored puts (audit queue full or stopped)\n";
      log_->warn("audit: {} stored puts not audited; raise [audit] queueCapacity", newly_dropped);
    }
    for (const auto& range : batch) audit_range(range, out);
    batch.clear();
    if (!out.empty() && file_ != nullptr) {
      if (std::fwrite(out.data(), 1, out.size(), file_) != out.size() || std::fflush(file_) != 0)
        log_->error("audit: writing {} failed: {}", options_.file, std::strerror(errno));
    }
    if (last) return;
  }
}

void AuditWriter::audit_range(const mq::StoredRange& range, std::string& out) {
  mq::CommitLogOffset at = range.begin;
  uint64_t lines = 0;
  while (at.value() < range.end.value()) {
    auto record = store_->read_at(at);
    if (!record) {
      out += "# UNREADABLE commitLogOffset=" + std::to_string(at.value()) + ": " + record.status().message() + "\n";
      break;
    }
    if (options_.topics.empty() || options_.topics.count(record->topic) > 0) {
      out += format_audit_line(*record);
      ++lines;
    }
    if (record->store_size <= 0) break;  // cannot advance; never loop forever
    at = mq::CommitLogOffset(at.value() + record->store_size);
  }
  std::lock_guard lock(mu_);
  lines_ += lines;
}

}  // namespace audit
