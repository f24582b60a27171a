// mqadmin's way of reading queues without a consumer: pull a queue from an offset to its end
// (consumeMessage), or every readable queue of a topic from its min offset, keeping the
// messages a filter accepts (queryDlqMessage, resendDlqMessage, queryCheckMaxHalfMessage).
// Blocking calls on the caller's thread; no state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "client_instance.h"
#include "mq/client/message.h"
#include "mq_types.h"

namespace mq::admin {

// Handed each pulled message; returns true when the message counts toward the limit (a filter
// returns false for a message it skips). It may move the message away.
using TakeMessage = std::function<bool(wire::MessageExt& m)>;

// Pulls queue on the broker at addr for `group`, from *offset until the queue's end or until
// `limit` messages were counted by take (no pull asks for more than are still wanted, so
// *offset is exact for a commit). *offset is left at the next offset to read.
client::Status pull_queue(client::ClientInstance& client, const std::string& addr, const std::string& group,
                          const client::MessageQueue& queue, int64_t limit, const TakeMessage& take, int64_t* offset);

using FoundMessages = std::vector<std::pair<std::string, wire::MessageExt>>;  // (broker name, message)

// Every message of `topic` (each readable queue on its master, from the queue's min offset)
// that `keep` accepts, at most `limit`, appended to *out. A topic that does not exist yields
// nothing.
client::Status read_topic(client::ClientInstance& client, const std::string& topic,
                          const std::function<bool(const wire::MessageExt&)>& keep, int64_t limit, FoundMessages* out);

}  // namespace mq::admin
