// mqbench_redis: the mqbench load generator against Redis Streams (hiredis): a stream key
// per queue (bench:<q>), XADD with MAXLEN unset. A call of N messages is N pipelined XADDs;
// async keeps --window calls pipelined per connection. Consume: XRANGE COUNT 256 per stream,
// one pipelined round per sweep over all streams.
#include <hiredis/hiredis.h>

#include <chrono>
#include <deque>
#include <string>
#include <thread>

#include "driver.h"

namespace mq::bench {
namespace {

struct Address {
  std::string host = "127.0.0.1";
  int port = 6379;
};

Address parse(const std::string& server) {
  Address a;
  auto colon = server.rfind(':');
  if (!server.empty() && colon != std::string::npos) {
    a.host = server.substr(0, colon);
    a.port = std::stoi(server.substr(colon + 1));
  }
  return a;
}

redisContext* connect(const std::string& server, std::string* error) {
  Address a = parse(server);
  redisContext* c = redisConnect(a.host.c_str(), a.port);
  if (c == nullptr || c->err) {
    *error = "connect redis " + a.host + ":" + std::to_string(a.port) + ": " + (c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return nullptr;
  }
  return c;
}

class RedisSender final : public Sender {
 public:
  RedisSender(redisContext* c, int window) : c_(c), window_(window) {}
  ~RedisSender() override { redisFree(c_); }

  bool send_sync(int queue, const std::vector<std::string>& bodies, std::string* error) override {
    append(queue, bodies);
    return read_replies(static_cast<int>(bodies.size()), error);
  }

  void send_async(int queue, const std::vector<std::string>& bodies, int64_t tag_ns, const SendDone& done) override {
    done_ = &done;
    if (static_cast<int>(pending_.size()) >= window_) complete_one();
    append(queue, bodies);
    pending_.push_back({tag_ns, static_cast<int>(bodies.size())});
  }

  void drain() override {
    while (!pending_.empty()) complete_one();
  }

  void flush() override {
    int done = 0;
    while (!done && redisBufferWrite(c_, &done) == REDIS_OK) {
    }
  }

 private:
  void append(int queue, const std::vector<std::string>& bodies) {
    std::string key = "bench:" + std::to_string(queue);
    for (const auto& b : bodies) redisAppendCommand(c_, "XADD %b * d %b", key.data(), key.size(), b.data(), b.size());
  }

  bool read_replies(int n, std::string* error) {
    bool ok = true;
    for (int i = 0; i < n; ++i) {
      void* r = nullptr;
      if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) {
        *error = std::string("XADD: ") + c_->errstr;
        return false;
      }
      auto* reply = static_cast<redisReply*>(r);
      if (reply->type == REDIS_REPLY_ERROR) {
        *error = std::string("XADD: ") + reply->str;
        ok = false;
      }
      freeReplyObject(reply);
    }
    return ok;
  }

  void complete_one() {
    auto [tag, count] = pending_.front();
    pending_.pop_front();
    std::string error;
    (*done_)(read_replies(count, &error), tag, count);
  }

  redisContext* c_;
  int window_;
  std::deque<std::pair<int64_t, int>> pending_;
  const SendDone* done_ = nullptr;
};

class RedisReceiver final : public Receiver {
 public:
  RedisReceiver(redisContext* c, std::vector<std::string> last_ids) : c_(c), last_(std::move(last_ids)) {}
  ~RedisReceiver() override { redisFree(c_); }

  void run(const ReceiveSink& sink, const std::atomic<bool>& stop) override {
    while (!stop.load(std::memory_order_relaxed)) {
      for (size_t q = 0; q < last_.size(); ++q) {
        std::string key = "bench:" + std::to_string(q);
        std::string start = last_[q].empty() ? "-" : "(" + last_[q];
        redisAppendCommand(c_, "XRANGE %b %b + COUNT 256", key.data(), key.size(), start.data(), start.size());
      }
      size_t got = 0;
      for (size_t q = 0; q < last_.size(); ++q) {
        void* r = nullptr;
        if (redisGetReply(c_, &r) != REDIS_OK || r == nullptr) {
          sink.error(std::string("XRANGE: ") + c_->errstr);
          return;
        }
        auto* reply = static_cast<redisReply*>(r);
        if (reply->type == REDIS_REPLY_ARRAY) {
          for (size_t i = 0; i < reply->elements; ++i) {
            redisReply* entry = reply->element[i];
            redisReply* fields = entry->element[1];
            if (fields->elements >= 2) sink.message(std::string_view(fields->element[1]->str, fields->element[1]->len));
            last_[q].assign(entry->element[0]->str, entry->element[0]->len);
          }
          got += reply->elements;
        } else if (reply->type == REDIS_REPLY_ERROR) {
          sink.error(std::string("XRANGE: ") + reply->str);
        }
        freeReplyObject(reply);
      }
      if (got == 0) std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

 private:
  redisContext* c_;
  std::vector<std::string> last_;  // last id read per stream; "" = from the beginning
};

class RedisBackend final : public Backend {
 public:
  explicit RedisBackend(BenchOptions o) : o_(std::move(o)) {}
  std::string name() const override { return "redis-streams"; }

  bool prepare(const BenchOptions&, std::string* error) override {
    redisContext* c = connect(o_.server, error);
    if (!c) return false;
    if (o_.queues > 0) freeReplyObject(redisCommand(c, "FLUSHALL"));
    queues_ = o_.queues;
    if (queues_ == 0) {  // count existing streams
      while (true) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "EXISTS bench:%d", queues_));
        bool exists = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        if (r) freeReplyObject(r);
        if (!exists) break;
        ++queues_;
      }
    }
    redisFree(c);
    return true;
  }

  std::unique_ptr<Sender> make_sender(int, std::string* error) override {
    redisContext* c = connect(o_.server, error);
    if (!c) return nullptr;
    return std::make_unique<RedisSender>(c, o_.window);
  }

  std::unique_ptr<Receiver> make_receiver(bool from_first, std::string* error) override {
    redisContext* c = connect(o_.server, error);
    if (!c) return nullptr;
    std::vector<std::string> last(static_cast<size_t>(std::max(queues_, 1)));
    if (!from_first) {
      for (size_t q = 0; q < last.size(); ++q) {
        auto* r = static_cast<redisReply*>(redisCommand(c, "XREVRANGE bench:%d + - COUNT 1", static_cast<int>(q)));
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
          last[q].assign(r->element[0]->element[0]->str, r->element[0]->element[0]->len);
        } else {
          last[q] = "0-0";
        }
        if (r) freeReplyObject(r);
      }
    }
    return std::make_unique<RedisReceiver>(c, std::move(last));
  }

 private:
  BenchOptions o_;
  int queues_ = 0;
};

}  // namespace
}  // namespace mq::bench

int main(int argc, char** argv) {
  return mq::bench::bench_main(argc, argv, [](const mq::bench::BenchOptions& o, std::string*) {
    return std::make_unique<mq::bench::RedisBackend>(o);
  });
}
