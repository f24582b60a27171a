// The load generator: producer threads (sync / pipelined async / oneway, optional fixed rate),
// a receiver thread, a progress thread, and the JSON summary.
#include "driver.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "histogram.h"

namespace mq::bench {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void put_born(std::string* body, int64_t ns) {
  if (body->size() >= sizeof(ns)) std::memcpy(body->data(), &ns, sizeof(ns));
}

int64_t get_born(std::string_view body) {
  int64_t ns = 0;
  if (body.size() >= sizeof(ns)) std::memcpy(&ns, body.data(), sizeof(ns));
  return ns;
}

int64_t process_cpu_us(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  auto paren = line.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(line.substr(paren + 2));
  std::string f;
  int64_t utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoll(f);
    if (i == 15) stime = std::stoll(f);
  }
  long hz = sysconf(_SC_CLK_TCK);
  return (utime + stime) * 1'000'000 / (hz > 0 ? hz : 100);
}

namespace {

struct Stats {
  std::atomic<uint64_t> msgs{0};
  std::atomic<uint64_t> errors{0};
  LatencyHistogram latency;
};

void sleep_until_ns(int64_t t) {
  int64_t d = t - now_ns();
  if (d > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(d));
}

// Prints one line per second until stop: rate of `stats` since the last line, p99 so far.
void progress_loop(const char* what, const Stats& stats, int size, const std::atomic<bool>& stop) {
  int64_t start = now_ns();
  uint64_t last_msgs = 0;
  int64_t last_t = start;
  while (!stop.load()) {
    for (int i = 0; i < 20 && !stop.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int64_t t = now_ns();
    uint64_t m = stats.msgs.load();
    double secs = static_cast<double>(t - last_t) / 1e9;
    double rate = secs > 0 ? static_cast<double>(m - last_msgs) / secs : 0;
    std::fprintf(stderr, "[%5.1fs] %s %10.0f msgs/s %8.1f MB/s  p99 %8.1f us  errors %llu\n",
                 static_cast<double>(t - start) / 1e9, what, rate, rate * size / 1e6,
                 static_cast<double>(stats.latency.percentile(0.99)) / 1e3,
                 static_cast<unsigned long long>(stats.errors.load()));
    last_msgs = m;
    last_t = t;
  }
}

// The queues producers send to: 0, 1, ... (--queues 0, a topic that exists, sends to queue 0).
int queues_sent_to(const BenchOptions& o) {
  return std::max(o.queues, 1);
}

// Runs the producer threads until the deadline or until `messages` were started.
void run_producers(const BenchOptions& o, Backend& backend, Stats& stats, int64_t deadline_ns, bool record_latency,
                   std::atomic<bool>& failed) {
  std::atomic<int64_t> budget{o.messages > 0 ? o.messages : INT64_MAX};
  std::vector<std::thread> threads;
  for (int p = 0; p < o.producers; ++p) {
    threads.emplace_back([&, p] {
      std::string error;
      auto sender = backend.make_sender(p, &error);
      if (!sender) {
        std::fprintf(stderr, "producer %d: %s\n", p, error.c_str());
        failed = true;
        return;
      }
      std::vector<std::string> bodies(o.batch, std::string(o.size, 'm'));
      SendDone done = [&stats, record_latency](bool ok, int64_t tag, int count) {
        if (!ok) {
          stats.errors.fetch_add(count, std::memory_order_relaxed);
          return;
        }
        stats.msgs.fetch_add(count, std::memory_order_relaxed);
        if (record_latency) stats.latency.record(now_ns() - tag);
      };
      int queues = queues_sent_to(o);
      double per_thread_rate = o.rate / o.producers;
      int64_t interval_ns = per_thread_rate > 0 ? static_cast<int64_t>(1e9 * o.batch / per_thread_rate) : 0;
      int64_t next = now_ns();
      uint64_t call = 0;
      int error_lines = 0;
      while (now_ns() < deadline_ns) {
        if (budget.fetch_sub(o.batch, std::memory_order_relaxed) <= 0) break;
        if (interval_ns > 0) {
          sleep_until_ns(next);
          next += interval_ns;
        }
        int queue = static_cast<int>((p + call++) % static_cast<uint64_t>(queues));
        int64_t t = now_ns();
        for (auto& b : bodies) put_born(&b, t);
        bool ok = true;
        switch (o.send) {
          case SendKind::kSync:
            ok = sender->send_sync(queue, bodies, &error);
            done(ok, t, o.batch);
            break;
          case SendKind::kAsync:
            sender->send_async(queue, bodies, t, done);
            if (interval_ns > 0) sender->flush();
            break;
          case SendKind::kOneway:
            ok = sender->send_oneway(queue, bodies, &error);
            if (interval_ns > 0) sender->flush();
            if (ok)
              stats.msgs.fetch_add(o.batch, std::memory_order_relaxed);
            else
              stats.errors.fetch_add(o.batch, std::memory_order_relaxed);
            break;
        }
        if (!ok && error_lines++ < 3) std::fprintf(stderr, "producer %d: %s\n", p, error.c_str());
      }
      sender->drain();
    });
  }
  for (auto& t : threads) t.join();
}

// Warm-up before a timed produce run: one synchronous message to every queue (the first message
// to a queue is when a broker makes its files), with `o.warmup_wait` a wait until every queue
// shows it (at most a minute), then `o.warmup_s` idle seconds. False (with *error) when a send
// or the wait fails.
bool prime_queues(const BenchOptions& o, Backend& backend, std::string* error) {
  auto sender = backend.make_sender(0, error);
  if (!sender) return false;
  const std::vector<std::string> body(1, std::string(o.size, 'w'));
  const int queues = queues_sent_to(o);
  for (int q = 0; q < queues; ++q) {
    if (!sender->send_sync(q, body, error)) {
      *error = "warm-up send to queue " + std::to_string(q) + ": " + *error;
      return false;
    }
  }
  sender->drain();
  if (o.warmup_wait && !backend.wait_primed(queues, now_ns() + 60'000'000'000, error)) {
    *error = "warm-up: " + *error;
    return false;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.warmup_s));
  return true;
}

}  // namespace

int run_benchmark(const BenchOptions& o, Backend& backend, std::ostream& summary_out) {
  std::string error;
  if (!backend.prepare(o, &error)) {
    std::fprintf(stderr, "%s: %s\n", backend.name().c_str(), error.c_str());
    return 1;
  }
  Stats produced;
  Stats consumed;
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  std::unique_ptr<Receiver> receiver;
  std::thread receiver_thread;
  ReceiveSink sink;
  int64_t first_ns = 0;
  std::atomic<int64_t> last_receive_ns{0};
  if (o.mode != Mode::kProduce) {
    receiver = backend.make_receiver(o.mode == Mode::kConsume ? o.from_first : false, &error);
    if (!receiver) {
      std::fprintf(stderr, "%s: %s\n", backend.name().c_str(), error.c_str());
      return 1;
    }
    sink.message = [&consumed, &last_receive_ns](std::string_view body) {
      int64_t t = now_ns();
      consumed.latency.record(t - get_born(body));
      consumed.msgs.fetch_add(1, std::memory_order_relaxed);
      last_receive_ns.store(t, std::memory_order_relaxed);
    };
    int error_lines = 0;
    std::mutex error_mu;
    sink.error = [&consumed, &error_lines, &error_mu](const std::string& e) {
      consumed.errors.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(error_mu);
      if (error_lines++ < 3) std::fprintf(stderr, "consumer: %s\n", e.c_str());
    };
  }

  if (o.mode == Mode::kProduce && o.warmup_s > 0 && !prime_queues(o, backend, &error)) {
    std::fprintf(stderr, "%s: %s\n", backend.name().c_str(), error.c_str());
    return 1;
  }
  int64_t cpu_before = o.broker_pid > 0 ? process_cpu_us(o.broker_pid) : -1;
  const Stats& shown = o.mode == Mode::kProduce ? produced : consumed;
  std::atomic<bool> progress_stop{false};
  std::thread progress;
  if (o.progress) {
    progress = std::thread(progress_loop, mode_name(o.mode), std::cref(shown), o.size, std::cref(progress_stop));
  }
  int64_t start_ns = now_ns();
  int64_t end_ns = start_ns;
  int64_t duration_ns = static_cast<int64_t>(o.duration_s * 1e9);
  if (o.mode == Mode::kProduce) {
    int64_t deadline = o.messages > 0 ? INT64_MAX : start_ns + duration_ns;
    run_producers(o, backend, produced, deadline, true, failed);
    end_ns = now_ns();
  } else if (o.mode == Mode::kConsume) {
    receiver_thread = std::thread([&] { receiver->run(sink, stop); });
    int64_t deadline = start_ns + duration_ns;
    while (now_ns() < deadline && (o.messages == 0 || consumed.msgs.load() < static_cast<uint64_t>(o.messages))) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    end_ns = consumed.msgs.load() > 0 ? last_receive_ns.load() : now_ns();
    stop = true;
    receiver_thread.join();
  } else {
    receiver_thread = std::thread([&] { receiver->run(sink, stop); });
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // push consumers rebalance first
    start_ns = now_ns();
    first_ns = start_ns;
    int64_t deadline = o.messages > 0 ? INT64_MAX : start_ns + duration_ns;
    run_producers(o, backend, produced, deadline, false, failed);
    // Let the consumer catch up (at most 5 s) with what was acknowledged.
    int64_t wait_until = now_ns() + 5'000'000'000;
    while (now_ns() < wait_until && consumed.msgs.load() < produced.msgs.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    end_ns = now_ns();
    stop = true;
    receiver_thread.join();
  }
  (void)first_ns;
  int64_t cpu_after = o.broker_pid > 0 ? process_cpu_us(o.broker_pid) : -1;
  progress_stop = true;
  if (progress.joinable()) progress.join();

  const Stats& main_stats = o.mode == Mode::kProduce ? produced : consumed;
  uint64_t msgs = main_stats.msgs.load();
  uint64_t errors = main_stats.errors.load() + (o.mode == Mode::kE2e ? produced.errors.load() : 0);
  double secs = std::max(1e-9, static_cast<double>(end_ns - start_ns) / 1e9);
  nlohmann::json j;
  j["mode"] = mode_name(o.mode);
  j["backend"] = backend.name();
  if (o.mode != Mode::kConsume) {
    j["send"] = send_name(o.send);
    j["batch"] = o.batch;
    j["producers"] = o.producers;
    j["rate"] = o.rate;
  } else {
    j["consume"] = o.consume;
    j["from"] = o.from_first ? "first" : "last";
  }
  j["queues"] = o.queues;
  j["size"] = o.size;
  j["msgs"] = msgs;
  if (o.mode == Mode::kE2e) j["produced"] = produced.msgs.load();
  j["secs"] = std::round(secs * 1000) / 1000;
  j["msgs_per_s"] = std::round(static_cast<double>(msgs) / secs);
  j["mb_per_s"] = std::round(static_cast<double>(msgs) * o.size / secs / 1e4) / 100;
  auto us = [&](double q) { return std::round(static_cast<double>(main_stats.latency.percentile(q)) / 100) / 10; };
  j["p50_us"] = us(0.5);
  j["p99_us"] = us(0.99);
  j["p999_us"] = us(0.999);
  j["max_us"] = std::round(static_cast<double>(main_stats.latency.max()) / 100) / 10;
  j["latency_of"] = o.mode == Mode::kProduce ? (o.send == SendKind::kOneway ? "none" : "call_to_ack")
                    : o.mode == Mode::kE2e   ? "born_to_consume"
                                             : "born_to_consume(catch-up: includes backlog age)";
  j["errors"] = errors;
  if (cpu_before >= 0 && cpu_after >= 0 && msgs > 0) {
    j["broker_cpu_us_per_msg"] = std::round(static_cast<double>(cpu_after - cpu_before) / msgs * 1000) / 1000;
    j["broker_cpu_util"] = std::round(static_cast<double>(cpu_after - cpu_before) / (secs * 1e6) * 100) / 100;
  }
  if (!o.label.empty()) j["label"] = o.label;
  summary_out << j.dump() << std::endl;
  if (failed || (msgs == 0 && errors > 0)) return 1;
  return 0;
}

int bench_main(int argc, char** argv,
               const std::function<std::unique_ptr<Backend>(const BenchOptions&, std::string*)>& make_backend) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << usage(argv[0]);
    return 0;
  }
  BenchOptions options;
  std::string error;
  if (!parse_options(args, &options, &error)) {
    std::cerr << error << "\n" << usage(argv[0]);
    return 2;
  }
  auto backend = make_backend(options, &error);
  if (!backend) {
    std::cerr << error << "\n";
    return 2;
  }
  return run_benchmark(options, *backend, std::cout);
}

}  // namespace mq::bench
