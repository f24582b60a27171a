// Administrative calls end-to-end tests make on real brokers and name servers over the wire:
// create a topic, wait for its route, read a committed offset, run the mqadmin tool.
// Each call opens its own channel; any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "support/process.h"

namespace mq::testing {

// Creates `topic` with `queues` read and write queues on the broker at broker_addr.
// Returns "" on success, else what failed (for ASSERT_EQ(create_topic(...), "")).
std::string create_topic(const std::string& broker_addr, const std::string& topic, int queues);

// Whether the name server at namesrv answers a route with at least one queue for topic.
bool has_route(const std::string& namesrv, const std::string& topic);

// Waits (polling) until has_route; false when timeout passes first.
bool wait_for_route(const std::string& namesrv, const std::string& topic,
                    std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The offset `group` committed for queue `queue_id` of topic on the broker, -1 when none.
int64_t committed_offset(const std::string& broker_addr, const std::string& group, const std::string& topic,
                         int queue_id = 0);

// Runs bin/mqadmin <args[0]> -n <namesrv> <args[1..]> (60 s limit) and returns its exit code
// and output.
CommandResult run_mqadmin(const std::string& namesrv, const std::vector<std::string>& args);

}  // namespace mq::testing
