// The queue catalog (FORMAT.md §6): every (topic, queue id) with the consume-queue end
// that was on disk at the last checkpoint, so a start notices a deleted or cut-short
// consume queue and rebuilds it from the commit log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mq/status.h"
#include "mq/types.h"

namespace mq::storage_mmap {

struct CatalogEntry {
  std::string topic;
  QueueId queue_id = 0;
  int64_t max_offset = 0;  // one past the last unit flushed
  friend bool operator==(const CatalogEntry&, const CatalogEntry&) = default;
};

// nullopt when absent; also nullopt with *warning when unreadable or CRC-bad.
std::optional<std::vector<CatalogEntry>> load_catalog(const std::string& path, std::string* warning);
Status store_catalog(const std::string& path, const std::vector<CatalogEntry>& entries);

}  // namespace mq::storage_mmap
