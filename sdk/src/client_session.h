// What every SDK client (producer, transaction producer, consumers) does with the brokers
// around its own work: build its client id, open its ClientInstance from the configured name
// servers, send a producer-group heartbeat and unregister at shutdown. Stateless functions;
// thread-safety is that of the ClientInstance passed in.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "client_instance.h"
#include "mq/client/status.h"

namespace mq::client {

// "<ip>@<pid>@<suffix>", the id brokers key this client's heartbeats and locks by.
std::string make_client_id(const std::string& suffix);
// "<ip>@<pid>@<kind><n>", e.g. kind "p" and a per-process producer counter.
std::string make_client_id(const char* kind, uint64_t n);

// The first step of a client's shutdown(): under mu, moves *state (an enum with kRunning and
// kStopped) to kStopped. True when it was kRunning, i.e. the caller must now stop its parts;
// false for a client never started or already stopped (nothing to do).
template <class State>
bool leave_running(std::mutex& mu, State* state) {
  std::lock_guard lock(mu);
  const bool was_running = *state == State::kRunning;
  *state = State::kStopped;
  return was_running;
}

// Resolves the name servers (configured list or $NAMESRV_ADDR) and opens a client whose
// channels use send_timeout_ms for send/receive and at most 3 s to connect.
Status open_send_client(const std::string& namesrv_addr, int send_timeout_ms, std::unique_ptr<ClientInstance>* out);

// Heartbeats producer group `group` to every address; failures are logged with `who`
// ("producer g1") and otherwise ignored (the next round retries).
void send_producer_heartbeat(ClientInstance& client, const std::string& client_id, const std::string& group,
                             const std::set<std::string>& addresses, const std::string& who);

// Tells every address that client_id is gone; failures are logged with `who` and ignored.
void unregister_client(ClientInstance& client, const std::string& client_id, const std::set<std::string>& addresses,
                       const std::string& who);

}  // namespace mq::client
