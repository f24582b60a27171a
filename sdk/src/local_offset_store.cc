// LocalOffsetFile implementation (nlohmann/json, temp file + fsync + rename).
#include "local_offset_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace mq::client {
namespace {

std::string queue_key(const MessageQueue& q) { return q.topic + "@" + q.broker_name + "@" + std::to_string(q.queue_id); }

bool parse_queue_key(const std::string& key, MessageQueue* out) {
  auto last = key.rfind('@');
  if (last == std::string::npos || last == 0) return false;
  auto first = key.rfind('@', last - 1);
  if (first == std::string::npos) return false;
  try {
    size_t used = 0;
    out->queue_id = std::stoi(key.substr(last + 1), &used);
    if (used != key.size() - last - 1) return false;
  } catch (const std::exception&) {
    return false;
  }
  out->topic = key.substr(0, first);
  out->broker_name = key.substr(first + 1, last - first - 1);
  return !out->topic.empty() && !out->broker_name.empty();
}

}  // namespace

LocalOffsetFile::LocalOffsetFile(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/offsets.json") {}

Status LocalOffsetFile::load(std::map<MessageQueue, int64_t>* out) const {
  out->clear();
  std::ifstream in(path_);
  if (!in) return Status::ok();  // never saved yet
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Status(code::kClientError, "offset file " + path_ + " is not a JSON object; fix or delete it");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    MessageQueue q;
    if (!parse_queue_key(it.key(), &q) || !it.value().is_number_integer()) {
      return Status(code::kClientError, "offset file " + path_ + ": bad entry '" + it.key() + "'; fix or delete it");
    }
    (*out)[q] = it.value().get<int64_t>();
  }
  return Status::ok();
}

Status LocalOffsetFile::save(const std::map<MessageQueue, int64_t>& offsets) const {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return Status(code::kClientError, "cannot create offset directory " + dir_ + ": " + ec.message());
  nlohmann::json doc = nlohmann::json::object();
  for (const auto& [q, offset] : offsets) doc[queue_key(q)] = offset;
  const std::string text = doc.dump(1);
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(code::kClientError, "cannot write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      return Status(code::kClientError, "cannot write " + tmp + ": " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Status(code::kClientError, "cannot flush " + tmp + ": " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Status(code::kClientError, "cannot rename " + tmp + " to " + path_ + ": " + std::strerror(errno));
  }
  return Status::ok();
}

}  // namespace mq::client
