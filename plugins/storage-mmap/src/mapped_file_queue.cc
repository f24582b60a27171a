// MappedFileQueue: directory loading, lookup by offset, growth and truncation.
#include "mapped_file_queue.h"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "durable_fs.h"

namespace mq::storage_mmap {

namespace fs = std::filesystem;

Status MappedFileQueue::load() {
  if (Status st = create_directories_durably(dir_); !st) return st;
  std::error_code ec;
  std::vector<std::pair<int64_t, std::string>> names;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() != 20 || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
      continue;
    if (!entry.is_regular_file()) continue;
    names.emplace_back(std::stoll(name), entry.path().string());
  }
  if (ec) return Status::error(Code::kServiceNotAvailable, "cannot list directory " + dir_ + ": " + ec.message());
  std::sort(names.begin(), names.end());
  std::vector<std::shared_ptr<MappedFile>> files;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& [base, path] = names[i];
    // A file cut short (torn by a crash or truncated) is extended back with zeros: to the
    // next file's start, or to the configured size when it is the last.
    int64_t grow_to = i + 1 < names.size() ? names[i + 1].first - base : file_size_;
    auto file = MappedFile::open(path, base, file_size_, grow_to > file_size_ ? 0 : grow_to);
    if (!file) return file.status();
    if (no_readahead_) (*file)->advise_no_readahead();
    if (!files.empty() && files.back()->end() != base) {
      return Status::error(Code::kServiceNotAvailable, "files are not contiguous: " + files.back()->path() +
                                                           " ends at " + std::to_string(files.back()->end()) +
                                                           " but the next file is " + path +
                                                           "; restore the missing file or move the later ones away");
    }
    files.push_back(std::move(file).value());
  }
  std::unique_lock lock(mu_);
  files_ = std::move(files);
  return Status::ok();
}

bool MappedFileQueue::empty() const {
  std::shared_lock lock(mu_);
  return files_.empty();
}

std::shared_ptr<MappedFile> MappedFileQueue::find(int64_t offset) const {
  std::shared_lock lock(mu_);
  auto it = std::upper_bound(files_.begin(), files_.end(), offset,
                             [](int64_t off, const std::shared_ptr<MappedFile>& f) { return off < f->base(); });
  if (it == files_.begin()) return nullptr;
  --it;
  return offset < (*it)->end() ? *it : nullptr;
}

std::shared_ptr<MappedFile> MappedFileQueue::first() const {
  std::shared_lock lock(mu_);
  return files_.empty() ? nullptr : files_.front();
}

std::shared_ptr<MappedFile> MappedFileQueue::last() const {
  std::shared_lock lock(mu_);
  return files_.empty() ? nullptr : files_.back();
}

std::vector<std::shared_ptr<MappedFile>> MappedFileQueue::files() const {
  std::shared_lock lock(mu_);
  return files_;
}

int64_t MappedFileQueue::min_offset(int64_t empty_value) const {
  std::shared_lock lock(mu_);
  return files_.empty() ? empty_value : files_.front()->base();
}

int64_t MappedFileQueue::files_end(int64_t empty_value) const {
  std::shared_lock lock(mu_);
  return files_.empty() ? empty_value : files_.back()->end();
}

Result<std::shared_ptr<MappedFile>> MappedFileQueue::get_or_create(int64_t base, bool warm, bool* created) {
  if (created) *created = false;
  if (auto f = find(base); f && f->base() == base) return f;
  std::shared_ptr<MappedFile> made;
  {
    // One creator at a time: a second thread must never open a file another is still
    // sizing (ext4 grows st_size chunk by chunk during fallocate).
    std::lock_guard create(create_mu_);
    while (true) {
      if (auto f = find(base); f && f->base() == base) {
        made = f;
        break;
      }
      int64_t next = 0;
      bool first = false;
      {
        std::shared_lock lock(mu_);
        first = files_.empty();
        next = first ? base / file_size_ * file_size_ : files_.back()->end();
      }
      if (base < next || (first && base % file_size_ != 0)) {
        return Status::system("cannot create a file at offset " + std::to_string(base) + " in " + dir_ +
                              ": the next file must start at " + std::to_string(next));
      }
      if (first && !deferred_create_sync_) {
        if (Status st = create_directories_durably(dir_); !st) return st;
      } else if (first) {
        std::vector<std::string> created;
        if (Status st = create_directories(dir_, &created); !st) return st;
        std::lock_guard lock(unsynced_mu_);
        unsynced_dirs_.insert(unsynced_dirs_.end(), created.begin(), created.end());
      }
      // Readers keep going meanwhile: the list lock is not held across the file creation.
      auto file = MappedFile::open(dir_ + "/" + offset_to_file_name(next), next, file_size_, 0,
                                   deferred_create_sync_ ? NewFileSync::kByCaller : NewFileSync::kNow);
      if (!file) return file.status();
      if (no_readahead_) (*file)->advise_no_readahead();
      if (deferred_create_sync_) {
        std::lock_guard lock(unsynced_mu_);
        unsynced_files_.push_back(*file);
      }
      {
        std::unique_lock lock(mu_);
        files_.push_back(file.value());
      }
      if (next >= base) {
        made = std::move(file).value();
        if (created) *created = true;
        break;
      }
    }
  }
  // Published already; pre-faulting does not change bytes, so appends may run alongside.
  if (warm) made->warm();
  return made;
}

Status MappedFileQueue::sync_created() {
  std::vector<std::string> dirs;
  std::vector<std::shared_ptr<MappedFile>> files;
  {
    std::lock_guard lock(unsynced_mu_);
    dirs.swap(unsynced_dirs_);
    files.swap(unsynced_files_);
  }
  Status st;
  for (const std::string& d : dirs) {
    if (st = fsync_parent_dir(d); !st) break;
  }
  for (const auto& f : files) {
    if (!st) break;
    st = f->sync_created();
  }
  if (!st) {  // all of it again next time (an fsync repeated does no harm), before newer ones
    std::lock_guard lock(unsynced_mu_);
    unsynced_dirs_.insert(unsynced_dirs_.begin(), dirs.begin(), dirs.end());
    unsynced_files_.insert(unsynced_files_.begin(), files.begin(), files.end());
  }
  return st;
}

int MappedFileQueue::delete_front(const std::function<bool(const MappedFile&)>& pred, size_t keep, size_t max,
                                  Status* error) {
  std::vector<std::shared_ptr<MappedFile>> gone;
  {
    std::unique_lock lock(mu_);
    while (files_.size() > keep && gone.size() < max && pred(*files_.front())) {
      gone.push_back(files_.front());
      files_.erase(files_.begin());
    }
  }
  // Unlinked now; each mapping is released when its last reader drops its reference.
  Status first;
  for (const auto& f : gone) {
    if (Status st = f->unlink(); !st && first.is_ok()) first = st;
  }
  // The unlinks must survive a crash too (a resurrected file would be loaded again).
  if (!gone.empty()) {
    if (Status st = fsync_dir(dir_); !st && first.is_ok()) first = st;
  }
  if (error) *error = std::move(first);
  return static_cast<int>(gone.size());
}

Status MappedFileQueue::truncate(int64_t end) {
  std::unique_lock lock(mu_);
  bool unlinked = false;
  while (!files_.empty() && files_.back()->base() >= end) {
    if (files_.back()->base() == end) {
      // Keep the (now empty) file at `end` but make it read as zeros.
      if (Status st = files_.back()->zero_range(0, files_.back()->size()); !st) return st;
      if (files_.size() == 1 || files_[files_.size() - 2]->end() == end) break;
    }
    if (Status st = files_.back()->unlink(); !st) return st;
    files_.pop_back();
    unlinked = true;
  }
  if (unlinked) {
    if (Status st = fsync_dir(dir_); !st) return st;
  }
  for (auto& f : files_) {
    if (f->base() < end && end < f->end()) return f->zero_range(end - f->base(), f->size());
  }
  return Status::ok();
}

Status MappedFileQueue::flush(int64_t from, int64_t to) const {
  for (const auto& f : files()) {
    if (f->end() <= from || f->base() >= to) continue;
    if (Status st = f->flush(std::max(from, f->base()) - f->base(), std::min(to, f->end()) - f->base()); !st) return st;
  }
  return Status::ok();
}

void MappedFileQueue::drop_cache(int64_t from, int64_t to) const {
  for (const auto& f : files()) {
    if (f->end() <= from || f->base() >= to) continue;
    f->drop_cache(std::max(from, f->base()) - f->base(), std::min(to, f->end()) - f->base());
  }
}

}  // namespace mq::storage_mmap
