// The load generator shared by mqbench and the peer benchmarks: runs produce / consume / e2e
// against a Backend, prints a progress line per second (stderr) and one JSON summary (stdout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <iosfwd>
#include <string>

#include "backend.h"
#include "bench_options.h"

namespace mq::bench {

// steady clock (CLOCK_MONOTONIC: shared by every process of the machine), nanoseconds.
int64_t now_ns();
// The born time carried in the first 8 bytes of every body (little endian); 0 if too short.
void put_born(std::string* body, int64_t ns);
int64_t get_born(std::string_view body);

// utime + stime of a process in microseconds from /proc/<pid>/stat; -1 if unreadable.
int64_t process_cpu_us(int64_t pid);

// Returns the process exit code (0 ok, 1 the benchmark failed to start or saw only errors).
int run_benchmark(const BenchOptions& options, Backend& backend, std::ostream& summary_out);

// Entry point for the tools: parses argv, builds the back end with make_backend, runs.
int bench_main(int argc, char** argv,
               const std::function<std::unique_ptr<Backend>(const BenchOptions&, std::string*)>& make_backend);

}  // namespace mq::bench
