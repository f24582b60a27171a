// Broker calls shared by PullConsumer, LitePullConsumer and mqadmin: pull one batch from a
// queue (with client-side tag re-filtering) and read / write / look up queue offsets.
// Stateless; thread-safe as ClientInstance is.
#pragma once

#include <cstdint>
#include <string>

#include "client_instance.h"
#include "mq/client/message.h"
#include "mq/client/pull_consumer.h"
#include "tag_filter.h"

namespace mq::client {

// Maps a PullResponse code to a PullStatus (0 found, 19 no new, 20 no matched, 21 illegal).
PullResult::PullStatus pull_status_from_code(int code, bool has_messages);

// suspend_ms 0: answer at once. group may be empty (a tool pull that never commits).
// suggested_broker_id (optional) receives the answer's suggestWhichBrokerId (0 when absent).
PullResult pull_queue(ClientInstance& client, const std::string& broker_addr, const std::string& group,
                      const MessageQueue& mq, const TagFilter& filter, int64_t offset, int max_nums,
                      int64_t suspend_ms, int64_t* suggested_broker_id = nullptr);

enum class OffsetKind { kMin, kMax };
// getMinOffset / getMaxOffset; -1 with *status set on failure.
int64_t queue_offset(ClientInstance& client, const std::string& broker_addr, const MessageQueue& mq, OffsetKind kind,
                     Status* status);
int64_t search_queue_offset(ClientInstance& client, const std::string& broker_addr, const MessageQueue& mq,
                            int64_t timestamp_ms, Status* status);
// The group's committed offset; -1 (status OK) when the group has none.
int64_t committed_offset(ClientInstance& client, const std::string& broker_addr, const std::string& group,
                         const MessageQueue& mq, Status* status);
Status commit_queue_offset(ClientInstance& client, const std::string& broker_addr, const std::string& group,
                           const MessageQueue& mq, int64_t offset);

}  // namespace mq::client
