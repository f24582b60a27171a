// BenchOptions parsing.
#include "bench_options.h"

#include <charconv>
#include <functional>
#include <map>

namespace mq::bench {
namespace {

bool to_int64(const std::string& text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool to_double(const std::string& text, double* out) {
  try {
    size_t used = 0;
    *out = std::stod(text, &used);
    return used == text.size();
  } catch (...) {
    return false;
  }
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kProduce: return "produce";
    case Mode::kConsume: return "consume";
    case Mode::kE2e: return "e2e";
  }
  return "?";
}

const char* send_name(SendKind kind) {
  switch (kind) {
    case SendKind::kSync: return "sync";
    case SendKind::kAsync: return "async";
    case SendKind::kOneway: return "oneway";
  }
  return "?";
}

std::string usage(const std::string& program) {
  return program +
         " produce|consume|e2e [--backend B] [--server host:port] [--namesrv host:port] [--topic T]\n"
         "  [--group G] [--queues N] [--send sync|async|oneway] [--batch N] [--size BYTES]\n"
         "  [--producers N] [--window N] [--rate MSGS_PER_S] [--duration S] [--messages N]\n"
         "  [--warmup S] (produce, S < 60: one message to every queue, then S seconds idle, before timing)\n"
         "  [--warmup-wait 0|1] (1: before the idle seconds, wait until every queue shows its message)\n"
         "  [--consume pull|push] [--from first|last] [--broker-pid PID] [--progress 0|1] [--label TEXT]\n";
}

bool parse_options(const std::vector<std::string>& args, BenchOptions* out, std::string* error) {
  BenchOptions o;
  bool have_mode = false;
  auto set_mode = [&](const std::string& word) {
    if (word == "produce") o.mode = Mode::kProduce;
    else if (word == "consume") o.mode = Mode::kConsume;
    else if (word == "e2e") o.mode = Mode::kE2e;
    else return false;
    have_mode = true;
    return true;
  };
  auto int_opt = [](int64_t* dst, int64_t lo, int64_t hi) {
    return [dst, lo, hi](const std::string& v) {
      int64_t x = 0;
      if (!to_int64(v, &x) || x < lo || x > hi) return false;
      *dst = x;
      return true;
    };
  };
  int64_t queues = o.queues, batch = o.batch, size = o.size, producers = o.producers, window = o.window;
  int64_t progress = 1, warmup_wait = 1;
  std::map<std::string, std::function<bool(const std::string&)>> setters = {
      {"backend", [&](const std::string& v) { o.backend = v; return !v.empty(); }},
      {"server", [&](const std::string& v) { o.server = v; return !v.empty(); }},
      {"namesrv", [&](const std::string& v) { o.namesrv = v; return !v.empty(); }},
      {"topic", [&](const std::string& v) { o.topic = v; return !v.empty(); }},
      {"group", [&](const std::string& v) { o.group = v; return !v.empty(); }},
      {"queues", int_opt(&queues, 0, 65536)},
      {"send",
       [&](const std::string& v) {
         if (v == "sync") o.send = SendKind::kSync;
         else if (v == "async") o.send = SendKind::kAsync;
         else if (v == "oneway") o.send = SendKind::kOneway;
         else return false;
         return true;
       }},
      {"batch", int_opt(&batch, 1, 100000)},
      {"size", int_opt(&size, 8, 64 << 20)},
      {"producers", int_opt(&producers, 1, 1024)},
      {"connections", int_opt(&producers, 1, 1024)},
      {"window", int_opt(&window, 1, 1 << 20)},
      {"rate", [&](const std::string& v) { return to_double(v, &o.rate) && o.rate >= 0; }},
      {"duration", [&](const std::string& v) { return to_double(v, &o.duration_s) && o.duration_s > 0; }},
      {"warmup", [&](const std::string& v) { return to_double(v, &o.warmup_s) && o.warmup_s >= 0 && o.warmup_s < 60; }},
      {"warmup-wait", int_opt(&warmup_wait, 0, 1)},
      {"messages", int_opt(&o.messages, 0, INT64_MAX)},
      {"consume", [&](const std::string& v) { o.consume = v; return v == "pull" || v == "push"; }},
      {"from",
       [&](const std::string& v) {
         o.from_first = v == "first";
         return v == "first" || v == "last";
       }},
      {"broker-pid", int_opt(&o.broker_pid, 1, INT32_MAX)},
      {"progress", int_opt(&progress, 0, 1)},
      {"label", [&](const std::string& v) { o.label = v; return true; }},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0) {
      if (!have_mode && set_mode(arg)) continue;
      *error = have_mode ? "unexpected argument '" + arg + "': options look like --key value"
                         : "unknown mode '" + arg + "': expected produce, consume or e2e";
      return false;
    }
    std::string key = arg.substr(2);
    std::string value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      *error = "option --" + key + " needs a value";
      return false;
    }
    auto it = setters.find(key);
    if (it == setters.end()) {
      *error = "unknown option --" + key;
      return false;
    }
    if (!it->second(value)) {
      *error = "bad value '" + value + "' for --" + key;
      return false;
    }
  }
  if (!have_mode) {
    *error = "missing mode: produce, consume or e2e";
    return false;
  }
  if (o.warmup_s > 0 && o.mode != Mode::kProduce) {
    *error = "--warmup applies to produce mode only (a consume or e2e run would count its messages)";
    return false;
  }
  o.queues = static_cast<int>(queues);
  o.batch = static_cast<int>(batch);
  o.size = static_cast<int>(size);
  o.producers = static_cast<int>(producers);
  o.window = static_cast<int>(window);
  o.progress = progress != 0;
  o.warmup_wait = warmup_wait != 0;
  *out = std::move(o);
  return true;
}

}  // namespace mq::bench
