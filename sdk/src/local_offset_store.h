// Broadcasting offsets kept on local disk (RocketMQ LocalFileOffsetStore): one file per
// consumer, "offsets.json" = {"topic@broker@queueId": offset, ...}, replaced atomically
// (write a temp file, fsync, rename) so a crash leaves the old or the new table, never a torn one.
// Not thread-safe by itself: the consumer serializes save() calls (scheduler thread / shutdown).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "mq/client/message.h"
#include "mq/client/status.h"

namespace mq::client {

class LocalOffsetFile {
 public:
  // dir is created on save() if missing.
  explicit LocalOffsetFile(std::string dir);
  const std::string& path() const { return path_; }
  // Reads the table; a missing file is an empty table; a corrupt file is an error naming it.
  Status load(std::map<MessageQueue, int64_t>* out) const;
  Status save(const std::map<MessageQueue, int64_t>& offsets) const;

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace mq::client
