// Small durable-file helpers: atomic replace (temp + fsync + rename + directory fsync),
// whole-file read, and the tiny JSON shapes the plugin persists.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "mq/status.h"

namespace mq::schedule {

// Writes `content` to `path` so that a crash leaves either the old or the new file.
// Creates the parent directory if missing. Errors name the file and the failing call.
Status write_file_atomically(const std::string& path, const std::string& content);
// The whole file; nullopt when it does not exist. Errors name the file.
Result<std::optional<std::string>> read_whole_file(const std::string& path);
// fsync of a directory (after creating or removing entries in it).
Status fsync_dir(const std::string& dir);

// {"offsetTable":{"1":123,"2":0}} <-> map level -> offset.
std::string encode_offset_table(const std::map<int32_t, int64_t>& table);
// Every "key":number pair inside the "offsetTable" object; error names the file text at fault.
Result<std::map<int32_t, int64_t>> decode_offset_table(const std::string& json);
// The integer value of "name" in a flat JSON object; nullopt when absent; an error (naming the
// field and value) when the value does not fit in 64 bits.
Result<std::optional<int64_t>> json_int_field(const std::string& json, const std::string& name);

}  // namespace mq::schedule
