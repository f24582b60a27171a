// Where the transport's work runs: which CPU each io thread is pinned to
// (transport-thrift.ioThreadAffinity) and which io thread a new connection is served by.
//
// Why: a reply wakes the peer's thread; when that thread last ran on the other CPU the
// wake-up is an inter-processor interrupt, on a virtual machine an exit to the hypervisor on
// both sides. With each io thread pinned to a CPU and each connection served by the io thread
// of the CPU its packets arrive on (SO_INCOMING_CPU: for a peer on this machine the CPU its
// thread sent from, for a remote peer the CPU handling the NIC queue), the scheduler keeps a
// synchronous peer's thread on that CPU and its wake-ups stay local. 16 sync connections on
// the 2-vCPU bench machine: docs/benchmarks.md, round 17.
// The scheduler moves a peer's threads between CPUs afterwards (load balancing). A peer on
// this machine is followed: once its packets keep arriving from another CPU, its connection
// moves to that CPU's io thread (follow_io_thread(); round 18). A remote peer is not: its
// packets arrive on the CPU of its NIC queue, which says nothing about where it runs, and
// on a NIC with one queue following would put every connection on one io thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mq::transport_thrift {

enum class IoThreadAffinity {
  kAuto,  // pin when there are as many io threads as CPUs the process may run on
  kOn,    // pin io thread i to the i-th allowed CPU (wrapping around)
  kOff,   // never pin; connections go to the least loaded io thread
};

// The CPU each of `io_threads` threads is pinned to (-1: not pinned), given the CPUs the
// process may run on in ascending order.
inline std::vector<int> io_thread_cpus(IoThreadAffinity mode, int io_threads, std::span<const int> allowed) {
  std::vector<int> out(static_cast<size_t>(io_threads), -1);
  const bool pin =
      !allowed.empty() && (mode == IoThreadAffinity::kOn ||
                           (mode == IoThreadAffinity::kAuto && allowed.size() == static_cast<size_t>(io_threads)));
  if (!pin) return out;
  for (size_t i = 0; i < out.size(); ++i) out[i] = allowed[i % allowed.size()];
  return out;
}

// A connection goes to the io thread of its CPU only while that thread then serves at most
// this many more connections than the least loaded one; else to the least loaded one (a
// client that opens every connection from one CPU must not put them all on one io thread).
inline constexpr uint32_t kPlacementSlack = 1;

// The io thread for a new connection whose packets arrive on `incoming_cpu` (-1: unknown):
// the first thread pinned to that CPU if kPlacementSlack allows, else the first least loaded
// thread. `loads`: connections each thread serves now.
inline size_t choose_io_thread(int incoming_cpu, std::span<const int> thread_cpus, std::span<const uint32_t> loads) {
  size_t least = 0;
  for (size_t i = 1; i < loads.size(); ++i) {
    if (loads[i] < loads[least]) least = i;
  }
  if (incoming_cpu < 0) return least;
  for (size_t i = 0; i < thread_cpus.size() && i < loads.size(); ++i) {
    if (thread_cpus[i] == incoming_cpu && loads[i] + 1 <= loads[least] + kPlacementSlack) return i;
  }
  return least;
}

// The io thread a connection served by `current` moves to when its peer, a thread on this
// machine, now sends from `incoming_cpu`: the first thread pinned to that CPU. No slack
// against the other threads' loads: the kernel already balances the peers' threads over the
// CPUs, with ours, and a connection served on its peer's CPU costs that CPU least. nullopt:
// it stays (unknown CPU, already there, or no thread pinned to that CPU).
inline std::optional<size_t> follow_io_thread(size_t current, int incoming_cpu, std::span<const int> thread_cpus) {
  if (incoming_cpu < 0 || current >= thread_cpus.size() || thread_cpus[current] == incoming_cpu) return std::nullopt;
  for (size_t i = 0; i < thread_cpus.size(); ++i) {
    if (thread_cpus[i] == incoming_cpu) return i;
  }
  return std::nullopt;
}

}  // namespace mq::transport_thrift
