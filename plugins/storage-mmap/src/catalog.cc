// Queue catalog encoding and atomic write.
#include "catalog.h"

#include <fstream>
#include <iterator>

#include "byte_order.h"
#include "checkpoint.h"
#include "crc32c.h"

namespace mq::storage_mmap {
namespace {
constexpr uint32_t kCatalogMagic = 0x4D515143;  // "MQQC"
}  // namespace

std::optional<std::vector<CatalogEntry>> load_catalog(const std::string& path, std::string* warning) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const char* why) {
    *warning = path + " is not a valid queue catalog: " + why;
    return std::nullopt;
  };
  if (b.size() < 16) return bad("too short");
  if (get_be32(b.data()) != kCatalogMagic || get_be32(b.data() + 4) != 1) return bad("bad magic or version");
  if (get_be32(b.data() + b.size() - 4) != crc32c(b.data(), b.size() - 4)) return bad("CRC mismatch");
  uint32_t count = get_be32(b.data() + 8);
  std::vector<CatalogEntry> out;
  size_t p = 12;
  for (uint32_t i = 0; i < count; ++i) {
    if (p + 1 > b.size() - 4) return bad("truncated entry");
    size_t tl = static_cast<unsigned char>(b[p]);
    if (p + 1 + tl + 12 > b.size() - 4) return bad("truncated entry");
    CatalogEntry e;
    e.topic = b.substr(p + 1, tl);
    e.queue_id = static_cast<QueueId>(get_be32(b.data() + p + 1 + tl));
    e.max_offset = static_cast<int64_t>(get_be64(b.data() + p + 5 + tl));
    out.push_back(std::move(e));
    p += 1 + tl + 12;
  }
  return out;
}

Status store_catalog(const std::string& path, const std::vector<CatalogEntry>& entries) {
  std::string b(12, '\0');
  put_be32(b.data(), kCatalogMagic);
  put_be32(b.data() + 4, 1);
  put_be32(b.data() + 8, static_cast<uint32_t>(entries.size()));
  for (const auto& e : entries) {
    char buf[12];
    b.push_back(static_cast<char>(e.topic.size()));
    b += e.topic;
    put_be32(buf, static_cast<uint32_t>(e.queue_id));
    put_be64(buf + 4, static_cast<uint64_t>(e.max_offset));
    b.append(buf, 12);
  }
  char crc[4];
  put_be32(crc, crc32c(b.data(), b.size()));
  b.append(crc, 4);
  return write_file_atomically(path, b);
}

}  // namespace mq::storage_mmap
