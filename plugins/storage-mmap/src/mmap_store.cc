// MmapStore: put/get semantics (RocketMQ DefaultMessageStore), recovery and lifecycle.
#include "mmap_store.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <system_error>
#include <unordered_map>

#include "byte_order.h"
#include "catalog.h"

namespace mq::storage_mmap {

namespace {

PutResult error_result(Status st) {
  PutResult r;
  r.status = std::move(st);
  return r;
}

int64_t clamp_offset(int64_t v, int64_t lo, int64_t hi) {
  return std::max(lo, std::min(v, hi));
}

// make_offset_msg_id (mq/message.h) formatted on the stack and copied once: the same 32
// upper-case hex characters, one allocation, no per-character append.
std::string offset_msg_id(const HostAddress& host, int64_t offset) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  char buf[32];
  auto put = [&buf](int at, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      auto b = static_cast<uint8_t>(v >> (8 * (bytes - 1 - i)));
      buf[at + 2 * i] = kHex[b >> 4];
      buf[at + 2 * i + 1] = kHex[b & 0xF];
    }
  };
  put(0, host.ipv4, 4);
  put(8, static_cast<uint32_t>(host.port), 4);
  put(16, static_cast<uint64_t>(offset), 8);
  return std::string(buf, sizeof buf);
}

}  // namespace

MmapStore::MmapStore(StoreOptions options, HostAddress store_host, std::shared_ptr<spdlog::logger> logger)
    : options_(std::move(options)), store_host_(store_host), logger_(std::move(logger)) {
  const std::string& root = options_.store_root;
  log_ = std::make_unique<CommitLog>(root + "/commitlog", options_.commit_log_segment_size);
  log_->set_append_with_pwrite(options_.append_with_pwrite, options_.append_with_pwrite_min_bytes);
  log_->enable_dispatch_notes();
  queues_ = std::make_unique<ConsumeQueueStore>(root + "/consumequeue", options_.consume_queue_file_size);
  index_ = std::make_unique<IndexService>(root + "/index", static_cast<int32_t>(options_.max_hash_slot_num),
                                          static_cast<int32_t>(options_.max_index_num), options_.message_index_enable);
  IndexService* index = options_.message_index_enable ? index_.get() : nullptr;
  dispatcher_ = std::make_unique<Dispatcher>(*log_, *queues_, index,
                                             std::chrono::milliseconds(options_.consume_queue_write_out_ms), logger_);
  flush_ = std::make_unique<FlushService>(*log_, *queues_, index, *dispatcher_, options_, root + "/checkpoint",
                                          root + "/queues.catalog", logger_);
  allocator_ = std::make_unique<SegmentAllocator>(
      log_->segments(), [log = log_.get()] { return log->write_pos(); },
      [log = log_.get()] { return log->flushed_pos(); },
      SegmentAllocator::Windows{options_.warm_maped_file_enable && !options_.append_with_pwrite,
                                options_.commit_log_cache_mib << 20},
      logger_);
  log_->set_roll_listener([a = allocator_.get()] { a->request(); });
  log_->set_write_requester([f = flush_.get()] { f->request_write(); });
  if (options_.warm_maped_file_enable && options_.append_with_pwrite)
    logger_->warn(
        "[storage-mmap] warmMapedFileEnable=true has no effect with appendWithPwrite=true (the default): pages "
        "written with pwrite need no pre-faulting; set appendWithPwrite=false to write through pre-faulted mappings");
  cleaner_ = std::make_unique<CleanService>(*log_, *queues_, index, *dispatcher_, options_, logger_);
  if (options_.commit_log_cache_mib > 0 && options_.commit_log_cold_read_mib > 0) {
    cold_ = std::make_unique<ColdLogReader>(
        ColdLogReader::Options{.cache_bytes = options_.commit_log_cold_read_mib << 20},
        [log = log_.get()](int64_t offset) { return log->segments().find(offset); }, logger_);
  }
}

MmapStore::~MmapStore() {
  stop();
}

Status MmapStore::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_) return Status::ok();
  if (options_.store_root.empty())
    return Status::invalid("[storage-mmap] storePathRootDir is empty; set it in the broker config");
  std::error_code ec;
  std::filesystem::create_directories(options_.store_root, ec);
  if (ec)
    return Status::error(Code::kServiceNotAvailable,
                         "cannot create store directory " + options_.store_root + ": " + ec.message());
  if (Status st = lock_.acquire(options_.store_root); !st) return st;
  if (Status st = recover(); !st) {
    lock_.release();
    return st;
  }
  dispatcher_->start();
  flush_->start();
  allocator_->start();
  cleaner_->start();
  started_ = true;
  running_.store(true, std::memory_order_release);
  return Status::ok();
}

Status MmapStore::recover() {
  auto t0 = std::chrono::steady_clock::now();
  const std::string& root = options_.store_root;
  auto crashed = create_abort_file(root);
  if (!crashed) return crashed.status();
  std::string cp_warning;
  auto cp = load_checkpoint(root + "/checkpoint", &cp_warning);
  if (!cp_warning.empty()) logger_->warn("ignoring checkpoint: {}; recovery scans from the start", cp_warning);
  if (Status st = log_->load(); !st) return st;
  if (Status st = queues_->load(); !st) return st;

  const int64_t min = log_->min_offset();
  const int64_t files_end = log_->segments().files_end(min);
  auto last = log_->segments().last();
  const int64_t last_base = last ? last->base() : min;
  int64_t scan_from = min;
  if (cp && last) {
    int64_t safe = cp->safe_offset();
    if (safe < min || safe > files_end) {
      logger_->warn("checkpoint safe offset {} is outside the commit log [{}, {}); scanning from the start", safe, min,
                    files_end);
    } else {
      scan_from = *crashed ? safe : std::min(safe, last_base);
    }
  }
  ScanResult scan = log_->scan(scan_from, /*verify_crc=*/true);
  const int64_t end = scan.end;
  if (scan.valid_after >= 0) {
    auto seg = log_->segments().find(end);
    std::string what =
        "commit log is corrupt in the middle, not at its tail: " + (seg ? seg->path() : log_->segments().dir()) +
        " at commit-log offset " + std::to_string(end) + ": " +
        (scan.stop_reason.empty() ? "a zero-filled hole" : scan.stop_reason) + "; a valid record follows at offset " +
        std::to_string(scan.valid_after);
    if (!options_.truncate_corrupt_commit_log) {
      logger_->error(
          "{}. Refusing to start so no stored message is dropped: restore the segment (e.g. from a "
          "replica), or set storage-mmap.truncateCorruptCommitLog=true to truncate at offset {} and lose "
          "everything after it",
          what, end);
      return Status::error(Code::kServiceNotAvailable,
                           "[storage-mmap] " + what +
                               "; refusing to start (restore the segment or set "
                               "storage-mmap.truncateCorruptCommitLog=true to drop everything after it)");
    }
    logger_->error("{}; truncating there because truncateCorruptCommitLog=true: records from {} on are lost", what,
                   end);
  } else if (!scan.stop_reason.empty()) {
    logger_->warn("commit log ends at offset {} with a torn record (nothing valid follows): {}; truncating there", end,
                  scan.stop_reason);
  }
  if (Status st = log_->truncate(end); !st) return st;

  // Anything missing or garbled among the derived files means re-dispatching the whole log
  // (idempotent for what is intact).
  std::vector<std::string> rebuild_reasons;
  if (!cp) rebuild_reasons.push_back("no valid checkpoint");
  if (!queues_->existed()) rebuild_reasons.push_back("consumequeue directory missing");
  std::string cat_warning;
  auto catalog = load_catalog(root + "/queues.catalog", &cat_warning);
  if (!catalog) rebuild_reasons.push_back(cat_warning.empty() ? "no queue catalog" : cat_warning);
  for (const auto& e : catalog ? *catalog : std::vector<CatalogEntry>{}) {
    auto cq = queues_->find(e.topic, e.queue_id);
    if (!cq || cq->max_offset() < e.max_offset) {
      rebuild_reasons.push_back("consume queue " + e.topic + "/" + std::to_string(e.queue_id) +
                                (cq ? " is shorter than at the last checkpoint" : " is missing"));
      if (cq) cq->reset();
    }
  }
  int64_t dropped_units = 0;
  for (const auto& cq : queues_->all()) {
    auto dropped = cq->truncate_beyond(end);
    if (!dropped) return dropped.status();
    if (*dropped > 0)
      logger_->warn("consume queue topic={} queue={} dropped {} units beyond commit-log end {}", cq->topic(),
                    cq->queue_id(), *dropped, end);
    dropped_units += *dropped;
  }
  auto describe = [this](int64_t off, std::string* topic, QueueId* queue, int64_t* qoff) {
    auto ref = log_->locate(off);
    if (!ref) return false;
    if (check_record(ref->data, ref->to_segment_end, off, false).kind != RecordKind::kRecord) return false;
    RecordSummary s = summarize_record(ref->data);
    *topic = std::string(s.topic);
    *queue = s.queue_id;
    *qoff = s.queue_offset;
    return true;
  };
  for (const auto& cq : queues_->all()) {
    if (Status st = cq->validate(min, end, describe); !st) {
      rebuild_reasons.push_back(st.message());
      cq->reset();
    }
  }
  if (options_.message_index_enable) {
    auto idx = index_->load();
    if (!idx) return idx.status();
    if (idx->rebuild && end > min) rebuild_reasons.push_back("key index: " + idx->reason);
    if (*crashed && !idx->rebuild)
      if (std::string repaired = index_->repair_after_crash(); !repaired.empty())
        logger_->warn("key index after a crash: {}", repaired);
    // After a clean stop the index holds everything below its end; after a crash entries
    // may be missing, so re-index from the scan start (duplicates are dropped on query).
    index_->set_skip_below(idx->rebuild || *crashed ? 0 : index_->end_offset());
  }

  int64_t dispatch_from = scan_from;
  if (!rebuild_reasons.empty()) {
    dispatch_from = min;
    std::string all;
    for (const auto& r : rebuild_reasons) all += (all.empty() ? "" : "; ") + r;
    if (end > min) logger_->warn("rebuilding consume queues / key index from the commit log start {}: {}", min, all);
  }
  dispatcher_->set_dispatched(clamp_offset(dispatch_from, min, end));
  auto dispatched = dispatcher_->dispatch_available(/*notify_listeners=*/false);
  if (!dispatched) return dispatched.status();

  std::unordered_map<std::string, int64_t> table;
  for (const auto& cq : queues_->all()) table[CommitLog::queue_key(cq->topic(), cq->queue_id())] = cq->max_offset();
  log_->set_queue_offsets(std::move(table));

  if (Status st = flush_->flush_all_and_checkpoint(); !st) return st;
  recovered_end_.store(log_->write_pos(), std::memory_order_release);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  logger_->info(
      "recovery done root={} mode={} checkpoint={} scan_from={} end={} files_end={} records_scanned={} "
      "cq_units_dropped={} redispatch_from={} records_redispatched={} queues={} took_ms={}",
      root, *crashed ? "crash" : "clean", cp ? "yes" : "no", scan_from, end, files_end, scan.records, dropped_units,
      dispatch_from, *dispatched, queues_->all().size(), ms);
  return Status::ok();
}

void MmapStore::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (!started_) return;
  started_ = false;
  running_.store(false, std::memory_order_release);
  log_->close();
  cleaner_->stop();
  allocator_->stop();
  dispatcher_->stop();
  Status st = flush_->stop();
  if (st.is_ok() && !log_->read_only()) {
    if (Status rm = remove_abort_file(options_.store_root); !rm) logger_->warn("{}", rm.message());
  } else {
    logger_->error("store stopped without a clean flush; the abort file stays so the next start recovers: {}",
                   st.is_ok() ? log_->read_only_reason() : st.message());
  }
  lock_.release();
  logger_->info("store stopped root={} write_pos={} flushed={} dispatched={} records_parsed_without_a_note={}",
                options_.store_root, log_->write_pos(), log_->flushed_pos(), dispatcher_->dispatched(),
                log_->dispatch_notes().dropped());
  if (cold_) {
    const ColdLogReader::Stats c = cold_->stats();
    logger_->info(
        "cold reads (below the page-cache window): chunks_read={} by_read_ahead={} bytes_served={} "
        "left_to_the_mapping={}",
        c.chunks_read, c.chunks_read_ahead, c.bytes_served, c.fell_back);
  }
}

void MmapStore::finish_put(PutResult result, int64_t next_offset, bool wait_flush, PutCallback done) {
  if (wait_flush) {
    flush_->submit(next_offset, [result = std::move(result), done = std::move(done)](Status st) mutable {
      result.status = std::move(st);
      done(std::move(result));
    });
  } else {
    done(std::move(result));
  }
}

bool MmapStore::waits_for_flush(std::string_view wait_store_msg_ok) const noexcept {
  return options_.flush_disk_type == FlushDiskType::kSync && wait_store_msg_ok != "false";
}

void MmapStore::put(StoredMessage msg, PutCallback done) {
  if (!running_.load(std::memory_order_acquire)) {
    done(error_result(Status::error(Code::kServiceNotAvailable, "message store is not running")));
    return;
  }
  auto size = validate_message(msg, options_.max_message_size, log_->max_record_size());
  if (!size) {
    done(error_result(size.status()));
    return;
  }
  // Planned here (header, CRC of everything after the late fields), written once under the
  // put lock straight into the segment. Per-thread buffers: no allocation per put.
  thread_local std::string props;
  thread_local std::string key;
  RecordPlan plan;
  plan_record(msg, store_host_, &props, &plan);
  CommitLog::queue_key_into(msg.topic, msg.queue_id, &key);
  AppendItem item{nullptr, msg.topic, msg.queue_id, consumes_queue_offset(msg.sys_flag), key, &plan};
  thread_local std::vector<AppendOutcome> out;
  const bool wait = waits_for_flush(msg.property(prop::kWaitStoreMsgOk));
  if (Status st = log_->append(std::span<AppendItem>(&item, 1), &out, defer_mode(wait)); !st) {
    done(error_result(std::move(st)));
    return;
  }
  const AppendOutcome& o = out.front();
  put_count_.fetch_add(1, std::memory_order_relaxed);
  PutResult r;
  r.commit_log_offset = CommitLogOffset(o.offset);
  r.wrote_bytes = o.size;
  r.queue_offset = QueueOffset(o.queue_offset);
  r.store_timestamp_ms = o.store_timestamp_ms;
  r.offset_msg_id = offset_msg_id(store_host_, r.commit_log_offset.value());
  const int64_t end = o.offset + o.size;
  when_published(end, wait, [this, r = std::move(r), end, wait, done = std::move(done)](Status st) mutable {
    if (!st) return done(error_result(std::move(st)));
    finish_put(std::move(r), end, wait, std::move(done));
  });
}

void MmapStore::put_batch(std::vector<StoredMessage> msgs, PutBatchCallback done) {
  auto fail_all = [&](Status st) {
    std::vector<PutResult> rs(msgs.size(), error_result(st));
    done(std::move(rs));
  };
  if (!running_.load(std::memory_order_acquire))
    return fail_all(Status::error(Code::kServiceNotAvailable, "message store is not running"));
  if (msgs.empty()) return done({});
  // Per-thread buffers reused across calls (plans, properties, outcomes): the batch costs
  // one put-lock acquisition, one completion and no allocation beyond the results.
  thread_local std::vector<RecordPlan> plans;
  thread_local std::vector<std::string> props;
  thread_local std::vector<AppendItem> items;
  thread_local std::vector<AppendOutcome> out;
  thread_local std::string key;
  plans.resize(msgs.size());
  if (props.size() < msgs.size()) props.resize(msgs.size());
  items.resize(msgs.size());
  CommitLog::queue_key_into(msgs[0].topic, msgs[0].queue_id, &key);
  for (size_t i = 0; i < msgs.size(); ++i) {
    const StoredMessage& m = msgs[i];
    if (m.topic != msgs[0].topic || m.queue_id != msgs[0].queue_id)
      return fail_all(Status::error(Code::kMessageIllegal, "a batch must target one topic and queue; message " +
                                                               std::to_string(i) + " is for " + m.topic + "/" +
                                                               std::to_string(m.queue_id) + ", the first for " +
                                                               msgs[0].topic + "/" + std::to_string(msgs[0].queue_id)));
    auto size = validate_message(m, options_.max_message_size, log_->max_record_size());
    if (!size)
      return fail_all(Status::error(size.status().code(),
                                    "message " + std::to_string(i) + " of the batch: " + size.status().message()));
    plan_record(m, store_host_, &props[i], &plans[i]);
    items[i] = AppendItem{nullptr, m.topic, m.queue_id, consumes_queue_offset(m.sys_flag), key, &plans[i]};
  }
  const bool wait = waits_for_flush(msgs.front().property(prop::kWaitStoreMsgOk));
  if (Status st = log_->append(items, &out, defer_mode(wait)); !st) return fail_all(std::move(st));
  const int64_t next = out.back().offset + out.back().size;
  put_count_.fetch_add(msgs.size(), std::memory_order_relaxed);
  std::vector<PutResult> results(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    const AppendOutcome& o = out[i];
    PutResult& r = results[i];
    r.commit_log_offset = CommitLogOffset(o.offset);
    r.wrote_bytes = o.size;
    r.queue_offset = QueueOffset(o.queue_offset);
    r.store_timestamp_ms = o.store_timestamp_ms;
    r.offset_msg_id = offset_msg_id(store_host_, r.commit_log_offset.value());
  }
  when_published(next, wait,
                 [this, results = std::move(results), next, wait, done = std::move(done)](Status st) mutable {
                   if (!st) {
                     std::vector<PutResult> failed(results.size(), error_result(st));
                     return done(std::move(failed));
                   }
                   if (!wait) return done(std::move(results));
                   flush_->submit(next, [results = std::move(results), done = std::move(done)](Status st) mutable {
                     for (auto& r : results) r.status = st;
                     done(std::move(results));
                   });
                 });
}

void MmapStore::put_views(std::span<const MessageView> msgs, PutViewsCallback done) {
  auto fail = [&](Status st) { done(PutViewsResult{std::move(st), 0, {}}); };
  if (!running_.load(std::memory_order_acquire))
    return fail(Status::error(Code::kServiceNotAvailable, "message store is not running"));
  if (msgs.empty()) return done(PutViewsResult{});
  const MessageView& first = msgs.front();
  if (std::string why = validate_topic_name(first.topic); !why.empty())
    return fail(Status::error(Code::kMessageIllegal, why));
  // Per-thread buffers reused across calls: no allocation here beyond the positions.
  thread_local std::vector<RecordPlan> plans;
  thread_local std::vector<AppendItem> items;
  thread_local std::vector<AppendOutcome> out;
  thread_local std::string key;
  plans.resize(msgs.size());
  items.resize(msgs.size());
  CommitLog::queue_key_into(first.topic, first.queue_id, &key);
  for (size_t i = 0; i < msgs.size(); ++i) {
    const MessageView& m = msgs[i];
    if (m.queue_id != first.queue_id || !same_text(m.topic, first.topic))
      return fail(Status::error(Code::kMessageIllegal,
                                "a batch must target one topic and queue; message " + std::to_string(i) + " is for " +
                                    std::string(m.topic) + "/" + std::to_string(m.queue_id) + ", the first for " +
                                    std::string(first.topic) + "/" + std::to_string(first.queue_id)));
    PropertyFacts facts;
    if (auto size = validate_view(m, options_.max_message_size, log_->max_record_size(), &facts); !size)
      return fail(Status::error(size.status().code(),
                                (msgs.size() > 1 ? "message " + std::to_string(i) + " of the batch: " : std::string()) +
                                    size.status().message()));
    plan_record(m, store_host_, &plans[i], &facts);
    items[i] = AppendItem{nullptr, m.topic, m.queue_id, consumes_queue_offset(m.sys_flag), key, &plans[i]};
  }
  const bool wait = waits_for_flush(find_encoded_property(first.properties, prop::kWaitStoreMsgOk));
  if (Status st = log_->append(items, &out, defer_mode(wait)); !st) return fail(std::move(st));
  const int64_t next = out.back().offset + out.back().size;
  put_count_.fetch_add(msgs.size(), std::memory_order_relaxed);
  PutViewsResult r;
  r.store_timestamp_ms = out.front().store_timestamp_ms;
  r.positions.reserve(out.size());
  for (const AppendOutcome& o : out)
    r.positions.push_back(PutPosition{CommitLogOffset(o.offset), o.size, QueueOffset(o.queue_offset)});
  when_published(next, wait, [this, r = std::move(r), next, wait, done = std::move(done)](Status st) mutable {
    if (!st) return done(PutViewsResult{std::move(st), 0, {}});
    if (!wait) return done(std::move(r));
    flush_->submit(next, [r = std::move(r), done = std::move(done)](Status st) mutable {
      if (!is_appended(st)) r.positions.clear();
      r.status = std::move(st);
      done(std::move(r));
    });
  });
}

namespace {
Status truncating_error() {
  return Status::error(Code::kServiceNotAvailable, "the commit log is being truncated (replication); retry");
}
}  // namespace

bool MmapStore::truncation_intervened(uint64_t gen_at_start) const noexcept {
  if (gen_at_start & 1) return true;
  std::atomic_thread_fence(std::memory_order_acquire);  // the reads above happen before this load
  return truncation_gen_.load(std::memory_order_relaxed) != gen_at_start;
}

template <class Take, class Drop>
GetResult MmapStore::scan_queue(const GetRequest& req, Take&& take, Drop&& drop) {
  get_count_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t gen = truncation_gen_.load(std::memory_order_acquire);
  GetResult r;
  if (gen & 1) {  // answered as "nothing readable here yet": the consumer retries this offset
    r.status = GetStatus::kOffsetFoundNull;
    r.next_begin_offset = req.offset;
    return r;
  }
  const int64_t offset = req.offset.value();
  auto cq = queues_->find(req.topic, req.queue_id);
  if (!cq) {
    r.status = GetStatus::kNoMatchedLogicQueue;
    r.next_begin_offset = QueueOffset(0);
    return r;
  }
  const int64_t min = cq->min_offset();
  const int64_t max = cq->max_offset();
  r.min_offset = QueueOffset(min);
  r.max_offset = QueueOffset(max);
  if (max == 0) {
    r.status = GetStatus::kNoMessageInQueue;
    r.next_begin_offset = QueueOffset(0);
    return r;
  }
  if (offset < min) {
    r.status = GetStatus::kOffsetTooSmall;
    r.next_begin_offset = QueueOffset(min);
    return r;
  }
  if (offset == max) {
    r.status = GetStatus::kOffsetOverflowOne;
    r.next_begin_offset = QueueOffset(offset);
    return r;
  }
  if (offset > max) {
    r.status = GetStatus::kOffsetOverflowBadly;
    r.next_begin_offset = QueueOffset(min == 0 ? min : max);  // as RocketMQ
    return r;
  }
  const int32_t max_count = std::clamp(req.max_count, 1, kMaxGetCount);
  const int64_t max_bytes = std::max<int64_t>(1, req.max_bytes);
  // Units looked at per call: RocketMQ's maxFilterMessageCount (800) so a filter can skip
  // ahead, but never fewer than the messages asked for; bounded by kMaxGetCount.
  const int64_t scan_limit = std::max<int64_t>(16000 / kCqUnitSize, max_count);
  const int64_t log_min = log_->min_offset();
  // After an msync failure units may point at bytes that never reached the disk.
  const int64_t readable = log_->readable_end();
  int32_t count = 0;
  int64_t bytes = 0;
  r.status = GetStatus::kNoMatchedMessage;
  int64_t q = offset;
  for (; q < max && q - offset < scan_limit; ++q) {
    CqUnit unit;
    if (!cq->read_unit(q, &unit) || unit.size <= 0) continue;  // a hole left by recovery
    // At most max_count messages and max_bytes (the first message always goes, so one
    // larger than max_bytes is still delivered alone).
    if (count > 0 && (count >= max_count || bytes + unit.size > max_bytes)) break;
    if (unit.commit_log_offset + unit.size > readable) break;  // not durable: retry from here later
    if (req.filter && !req.filter->match_tag_hash(unit.tag_hash)) continue;
    if (unit.commit_log_offset < log_min) {
      if (count == 0) r.status = GetStatus::kMessageWasRemoving;
      continue;
    }
    Result<bool> taken = take(unit.commit_log_offset, unit.size, gen);
    if (!taken) {
      // Never serve or skip a bad record: stop before it so the consumer retries here.
      logger_->error("get topic={} queue={} queue_offset={} commit_log_offset={}: {}", req.topic, req.queue_id, q,
                     unit.commit_log_offset, taken.status().message());
      if (count == 0) r.status = GetStatus::kOffsetFoundNull;
      break;
    }
    if (!*taken) continue;  // the filter said no
    bytes += unit.size;
    ++count;
    r.status = GetStatus::kFound;
  }
  r.next_begin_offset = QueueOffset(q);
  if (truncation_intervened(gen)) {  // units may have looked like holes mid-zeroing
    drop();
    r.status = GetStatus::kOffsetFoundNull;
    r.next_begin_offset = req.offset;
  }
  return r;
}

GetResult MmapStore::get(const GetRequest& req) {
  std::vector<StoredMessage> found;
  GetResult r = scan_queue(
      req,
      [&](int64_t commit_log_offset, int32_t, uint64_t) -> Result<bool> {
        auto msg = log_->read(commit_log_offset);
        if (!msg) return msg.status();
        if (req.filter && !req.filter->match_message(*msg)) return false;
        found.push_back(std::move(msg).value());
        return true;
      },
      [&] { found.clear(); });
  r.messages = std::move(found);
  return r;
}

namespace {
bool is_whole_record(const RecordCheck& c, int32_t size) {
  return c.kind == RecordKind::kRecord && c.size == size;
}
}  // namespace

bool MmapStore::get_records(const GetRequest& req, GetRecordsResult* out) {
  out->records.clear();
  out->record_count = 0;
  // Records wholly below the page-cache window come from the cold reader's chunks (flushed
  // bytes only, so the disk holds what was written); anything it does not serve, and any
  // record that does not check out there, is read through the mapping as before.
  std::optional<ColdLogReader::Cursor> cold;
  int64_t cold_limit = -1;  // read after scan_queue's truncation generation, on the first record
  // A filter that passed the tag hash looks at the message itself (SQL92, or the tag string
  // behind a hash collision); a record it passes is copied out.
  auto keep = [&](const char* record, int32_t size, int64_t commit_log_offset) {
    if (req.filter && !req.filter->match_message(decode_record(record))) return false;
    out->records.append(record, static_cast<size_t>(size));
    out->end_of_last = CommitLogOffset(commit_log_offset + size);
    ++out->record_count;
    return true;
  };
  out->get = scan_queue(
      req,
      [&](int64_t commit_log_offset, int32_t size, uint64_t gen) -> Result<bool> {
        if (cold_ && cold_->enabled()) {
          if (cold_limit < 0) cold_limit = std::min(allocator_->cache_dropped_to(), log_->flushed_pos());
          if (commit_log_offset + size <= cold_limit) {
            if (!cold) cold.emplace(*cold_);
            const char* p = cold->bytes(commit_log_offset, size, cold_limit, gen);
            if (p && is_whole_record(check_record(p, size, commit_log_offset, true), size))
              return keep(p, size, commit_log_offset);
          }
        }
        auto ref = log_->locate_record(commit_log_offset);
        if (!ref) return ref.status();
        return keep(ref->data, ref->record_size, commit_log_offset);
      },
      [&] {
        out->records.clear();
        out->record_count = 0;
      });
  return true;
}

QueueOffset MmapStore::min_offset(const std::string& topic, QueueId queue_id) {
  auto cq = queues_->find(topic, queue_id);
  return QueueOffset(cq ? cq->min_offset() : 0);
}

QueueOffset MmapStore::max_offset(const std::string& topic, QueueId queue_id) {
  auto cq = queues_->find(topic, queue_id);
  return QueueOffset(cq ? cq->max_offset() : 0);
}

QueueOffset MmapStore::offset_by_time(const std::string& topic, QueueId queue_id, int64_t timestamp_ms) {
  auto cq = queues_->find(topic, queue_id);
  if (!cq) return QueueOffset(0);
  // Store timestamps are non-decreasing in commit-log order, hence in queue order.
  int64_t lo = cq->min_offset();
  int64_t hi = cq->max_offset();
  while (lo < hi) {
    int64_t mid = lo + (hi - lo) / 2;
    int64_t ts = INT64_MIN;
    CqUnit unit;
    if (cq->read_unit(mid, &unit) && unit.size > 0) {
      if (auto ref = log_->locate(unit.commit_log_offset); ref && ref->to_segment_end >= pos::kStoreTimestamp + 8)
        ts = static_cast<int64_t>(get_be64(ref->data + pos::kStoreTimestamp));
    }
    if (ts >= timestamp_ms) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return QueueOffset(lo);
}

Result<StoredMessage> MmapStore::read_at(CommitLogOffset offset) {
  const uint64_t gen = truncation_gen_.load(std::memory_order_acquire);
  if (gen & 1) return truncating_error();
  auto r = log_->read(offset.value());
  if (truncation_intervened(gen)) return truncating_error();
  return r;
}

std::vector<StoredMessage> MmapStore::query_by_key(const std::string& topic, const std::string& key, int32_t max_count,
                                                   int64_t begin_ms, int64_t end_ms) {
  std::vector<StoredMessage> out;
  if (!options_.message_index_enable) {
    if (!index_off_logged_.exchange(true))
      logger_->warn("query by key refused: the key index is off; set storage-mmap.messageIndexEnable=true");
    return out;
  }
  if (max_count <= 0 || key.empty()) return out;
  if (end_ms < 0) end_ms = INT64_MAX / 2;  // no upper bound
  const int64_t log_min = log_->min_offset();
  // Hash collisions and re-indexed duplicates are filtered by checking the record itself.
  for (int64_t off : index_->query(topic, key, static_cast<size_t>(max_count) * 2 + 16, begin_ms, end_ms)) {
    if (static_cast<int32_t>(out.size()) >= max_count) break;
    if (off < log_min) continue;
    auto msg = log_->read(off);
    if (!msg) continue;
    if (msg->topic != topic || msg->store_timestamp_ms < begin_ms || msg->store_timestamp_ms > end_ms) continue;
    bool match = msg->property(prop::kUniqKey) == key;
    std::string_view keys = msg->keys();
    while (!match && !keys.empty()) {
      size_t sp = keys.find(' ');
      match = keys.substr(0, sp) == key;
      if (sp == std::string_view::npos) break;
      keys.remove_prefix(sp + 1);
    }
    if (match) out.push_back(std::move(msg).value());
  }
  return out;
}

Result<RawChunk> MmapStore::read_raw(CommitLogOffset from, int32_t max_bytes) {
  if (from.value() < log_->min_offset())
    return Status::error(Code::kQueryNotFound, "commit-log offset " + std::to_string(from.value()) +
                                                   " was deleted by retention; the log starts at " +
                                                   std::to_string(log_->min_offset()));
  const uint64_t gen = truncation_gen_.load(std::memory_order_acquire);
  if (gen & 1) return truncating_error();
  auto raw = log_->read_raw(from.value(), std::max(1, max_bytes));
  if (truncation_intervened(gen)) return truncating_error();
  if (!raw) return raw.status();
  RawChunk c;
  c.from = from;
  c.next_offset = CommitLogOffset(raw->next_offset);
  c.bytes = std::move(raw->bytes);
  return c;
}

Result<CommitLogOffset> MmapStore::append_raw(CommitLogOffset at, std::string_view bytes) {
  if (!running_.load(std::memory_order_acquire))
    return Status::error(Code::kServiceNotAvailable, "message store is not running");
  auto end = log_->append_raw(at.value(), bytes);
  if (!end) return end.status();
  dispatcher_->wake();
  return CommitLogOffset(*end);
}

Result<CommitLogOffset> MmapStore::truncate_to(CommitLogOffset end_offset) {
  std::lock_guard lock(lifecycle_mu_);
  if (!started_) return Status::error(Code::kServiceNotAvailable, "message store is not running");
  const int64_t end = end_offset.value();
  const int64_t old_end = log_->write_pos();
  const int64_t min = log_->min_offset();
  if (end == old_end) return CommitLogOffset(end);
  if (end > old_end || end < min)
    return Status::invalid("truncate_to " + std::to_string(end) + ": outside the commit log [" + std::to_string(min) +
                           ", " + std::to_string(old_end) + "]");
  // `end` must be where a record starts (or a segment's first byte): never cut a record.
  if (auto seg = log_->segments().find(end); !seg || seg->base() != end) {
    auto ref = log_->locate(end);
    RecordKind kind =
        ref ? check_record(ref->data, ref->to_segment_end, end, /*verify_crc=*/true).kind : RecordKind::kCorrupt;
    if (kind != RecordKind::kRecord && kind != RecordKind::kBlank)
      return Status::invalid("truncate_to " + std::to_string(end) + ": no record starts at that commit-log offset");
  }
  // Readers fail cleanly from here until either exit below.
  truncation_gen_.fetch_add(1, std::memory_order_acq_rel);
  struct GenGuard {
    std::atomic<uint64_t>& gen;
    ~GenGuard() { gen.fetch_add(1, std::memory_order_release); }
  } gen_guard{truncation_gen_};
  running_.store(false, std::memory_order_release);
  log_->close();  // writes deferred appends: the log may now end past old_end
  const int64_t written_end = std::max(old_end, log_->write_pos());
  cleaner_->stop();
  allocator_->stop();
  dispatcher_->stop();
  Status st = flush_->stop();  // completes waiting SYNC_FLUSH puts, checkpoints
  if (st) st = log_->truncate(end);
  if (st) st = log_->segments().flush(end, written_end);  // the zeroed tail reaches the disk
  int64_t dropped_units = 0;
  for (const auto& cq : queues_->all()) {
    if (!st) break;
    auto dropped = cq->truncate_beyond(end);
    if (!dropped) {
      st = dropped.status();
      break;
    }
    dropped_units += *dropped;
  }
  if (st) {
    dispatcher_->set_dispatched(std::min(dispatcher_->dispatched(), end));
    index_->set_skip_below(0);  // records re-written below the old index end get indexed
    std::unordered_map<std::string, int64_t> table;
    for (const auto& cq : queues_->all()) table[CommitLog::queue_key(cq->topic(), cq->queue_id())] = cq->max_offset();
    log_->set_queue_offsets(std::move(table));
    st = flush_->flush_all_and_checkpoint();
  }
  dispatcher_->start();
  flush_->start();
  allocator_->start();
  cleaner_->start();
  if (!st) {
    log_->set_read_only("truncation to commit-log offset " + std::to_string(end) + " failed: " + st.message());
    logger_->error("truncate_to {} failed, the store is read-only now: {}", end, st.message());
    return st;
  }
  // A new epoch must never start above bytes that are gone now.
  if (recovered_end_.load(std::memory_order_acquire) > end) recovered_end_.store(end, std::memory_order_release);
  running_.store(true, std::memory_order_release);
  logger_->warn("commit log truncated from {} to {} ({} bytes, {} consume-queue units dropped)", written_end, end,
                written_end - end, dropped_units);
  return CommitLogOffset(end);
}

CleanOutcome MmapStore::clean_now(std::chrono::system_clock::time_point now) {
  return cleaner_->run_once(now);
}

void MmapStore::add_arrival_listener(ArrivalListener listener) {
  dispatcher_->add_listener(std::move(listener));
}

StoreStats MmapStore::stats() {
  StoreStats s;
  s.min_commit_log_offset = CommitLogOffset(log_->min_offset());
  s.max_commit_log_offset = CommitLogOffset(log_->write_pos());
  s.flushed_commit_log_offset = CommitLogOffset(log_->flushed_pos());
  s.dispatched_commit_log_offset = CommitLogOffset(dispatcher_->dispatched());
  s.recovered_commit_log_offset = CommitLogOffset(recovered_end_.load(std::memory_order_acquire));
  s.put_count = put_count_.load(std::memory_order_relaxed);
  s.get_count = get_count_.load(std::memory_order_relaxed);
  s.read_only = log_->read_only();
  if (s.read_only) s.read_only_reason = log_->read_only_reason();
  return s;
}

bool MmapStore::wait_dispatched(std::chrono::milliseconds timeout) {
  return dispatcher_->wait_dispatched(log_->readable_end(), timeout);
}

}  // namespace mq::storage_mmap
