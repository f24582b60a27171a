// Atomic replacement and crash-tolerant loading of the broker's small JSON config files
// (topics.json, consumerOffset.json): temp file + fsync + rename + directory fsync, with
// the previous good version kept as <file>.bak.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "mq/status.h"

namespace mq::kernel {

// Replaces `path` with `content` so that a crash leaves either the old or the new file,
// never a torn one: writes <path>.tmp, fsyncs it, hard-links the current file to
// <path>.bak, renames the temp file over `path` and fsyncs the directory. On failure the
// old file is untouched and the Status names the file and the system error.
// Threading: callers serialize writes of one path.
Status write_file_atomically(const std::filesystem::path& path, std::string_view content);

// Reads and parses `path`. Missing file (and no .bak): nullopt (a fresh broker). A file
// that cannot be parsed falls back to <path>.bak with a warning; if that is missing or
// bad too, the error names the file and the parse error.
Result<std::optional<nlohmann::json>> load_json_with_backup(const std::filesystem::path& path,
                                                           spdlog::logger& log);

// <path>.tmp and <path>.bak.
std::filesystem::path temp_path_of(const std::filesystem::path& path);
std::filesystem::path backup_path_of(const std::filesystem::path& path);

}  // namespace mq::kernel
