// allocate_averagely implementation (mirrors AllocateMessageQueueAveragely.allocate).
#include "allocate_strategy.h"

#include <algorithm>

namespace mq::client {

std::vector<MessageQueue> allocate_averagely(const std::string& current_id, std::vector<MessageQueue> queues,
                                             std::vector<std::string> consumer_ids) {
  std::sort(queues.begin(), queues.end());
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  std::sort(consumer_ids.begin(), consumer_ids.end());
  consumer_ids.erase(std::unique(consumer_ids.begin(), consumer_ids.end()), consumer_ids.end());
  std::vector<MessageQueue> result;
  auto it = std::find(consumer_ids.begin(), consumer_ids.end(), current_id);
  if (it == consumer_ids.end() || queues.empty()) return result;

  const size_t n = queues.size();
  const size_t c = consumer_ids.size();
  const size_t index = static_cast<size_t>(it - consumer_ids.begin());
  const size_t mod = n % c;
  const size_t average = n <= c ? 1 : (mod > 0 && index < mod ? n / c + 1 : n / c);
  const size_t start = (mod > 0 && index < mod) ? index * average : index * average + mod;
  if (start >= n) return result;
  const size_t range = std::min(average, n - start);
  for (size_t i = 0; i < range; ++i) result.push_back(queues[(start + i) % n]);
  return result;
}

std::vector<MessageQueue> allocate_averagely_by_circle(const std::string& current_id, std::vector<MessageQueue> queues,
                                                       std::vector<std::string> consumer_ids) {
  std::sort(queues.begin(), queues.end());
  queues.erase(std::unique(queues.begin(), queues.end()), queues.end());
  std::sort(consumer_ids.begin(), consumer_ids.end());
  consumer_ids.erase(std::unique(consumer_ids.begin(), consumer_ids.end()), consumer_ids.end());
  std::vector<MessageQueue> result;
  auto it = std::find(consumer_ids.begin(), consumer_ids.end(), current_id);
  if (it == consumer_ids.end()) return result;
  const size_t index = static_cast<size_t>(it - consumer_ids.begin());
  for (size_t i = index; i < queues.size(); i += consumer_ids.size()) result.push_back(queues[i]);
  return result;
}

}  // namespace mq::client
