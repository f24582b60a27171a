// Durability helpers for file and directory metadata: checked fsync of a file or of a
// directory (so a created, renamed or unlinked name survives power loss), with a test seam.
#pragma once

#include <string>
#include <vector>

#include "mq/status.h"

namespace mq::storage_mmap {

// Fault-injection seam: every fsync made through this file calls `fn` instead of ::fsync
// when set (process-wide; tests only). It returns 0 or -1 with errno set.
using FsyncFn = int (*)(int fd);
void set_fsync_for_testing(FsyncFn fn) noexcept;  // nullptr restores ::fsync

// fsync(fd); the error names `path` and errno.
Status fsync_fd(int fd, const std::string& path);
// Opens `dir` and fsyncs it: makes entries created, renamed or unlinked in it durable.
Status fsync_dir(const std::string& dir);
// fsync of the directory holding `path`.
Status fsync_parent_dir(const std::string& path);
// create_directories, then fsyncs the parent of every directory it created, so the new
// directories themselves survive a power loss.
Status create_directories_durably(const std::string& dir);
// create_directories, appending the directories it created to `created` (outermost first)
// instead: the caller fsyncs their parents before it relies on them.
Status create_directories(const std::string& dir, std::vector<std::string>* created);

}  // namespace mq::storage_mmap
