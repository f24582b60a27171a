// BenchOptions: the command line shared by mqbench and the peer load generators in bench/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mq::bench {

enum class Mode { kProduce, kConsume, kE2e };
enum class SendKind { kSync, kAsync, kOneway };

struct BenchOptions {
  Mode mode = Mode::kProduce;
  std::string backend;           // back-end specific ("sdk" | "raw" for mqbench)
  std::string server;            // broker / server address "host:port"
  std::string namesrv;           // name server (mqbench sdk back end)
  std::string topic = "BenchTopic";
  std::string group;             // consumer group; default: unique per run
  int queues = 8;                // created with the topic; 0: do not create
  SendKind send = SendKind::kAsync;
  int batch = 1;                 // messages per call
  int size = 128;                // body bytes (>= 8: the first 8 carry the born time)
  int producers = 1;             // producer threads, one connection each
  int window = 64;               // async: calls in flight per producer
  double rate = 0;               // total msgs/s, 0 = as fast as possible
  double duration_s = 10;        // used when messages == 0
  double warmup_s = 0;           // produce: > 0 primes every queue, then waits this long untimed
  bool warmup_wait = true;       // the warm-up waits until every queue shows its message
  int64_t messages = 0;          // stop after this many (produce: sent, consume: received)
  std::string consume = "pull";  // pull | push
  bool from_first = true;        // consume: catch-up from the first offset, else live
  int64_t broker_pid = 0;        // > 0: report the broker's CPU time per message
  bool progress = true;
  std::string label;             // copied into the JSON summary
};

// Parses "MODE [--key value | --key=value]..." (MODE may also come after options). Returns false with *error naming the bad
// argument. Unknown keys are errors, so typos never silently change a benchmark.
bool parse_options(const std::vector<std::string>& args, BenchOptions* out, std::string* error);

std::string usage(const std::string& program);
const char* mode_name(Mode mode);
const char* send_name(SendKind kind);

}  // namespace mq::bench
