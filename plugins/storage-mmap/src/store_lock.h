// The store directory's `lock` file (one process per store, flock) and `abort` marker
// (present while running; found at start it means the last run crashed).
#pragma once

#include <string>

#include "mq/status.h"

namespace mq::storage_mmap {

// Holds an exclusive flock on <root>/lock, with the holder's pid written in it.
// Released by release() or the destructor. Not thread-safe; used by start/stop only.
class StoreLock {
 public:
  StoreLock() = default;
  ~StoreLock() { release(); }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

  // Fails (SERVICE_NOT_AVAILABLE) naming the directory and the holding pid when another
  // store (this or another process) holds the lock.
  Status acquire(const std::string& root);
  void release();
  bool held() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// <root>/abort: create_abort_file() returns whether it already existed (a crash).
Result<bool> create_abort_file(const std::string& root);
Status remove_abort_file(const std::string& root);

}  // namespace mq::storage_mmap
