// mqadmin commands for retry, dead-letter queues and scheduled messages:
//   queryDlqMessage -g G [-c n] [-i msgId]     list %DLQ%<G>
//   resendDlqMessage -g G [-c n] [-i msgId]    send DLQ messages again to their original topic
//   cancelScheduledMessage -t T -i msgId       cancel a delayed / timed message
// The pure parts (which DLQ messages match, the message to resend) are declared here for tests.
#pragma once

#include <ostream>
#include <string>

#include "admin_args.h"
#include "client_instance.h"
#include "mq/client/message.h"
#include "mq_types.h"

namespace mq::admin {

// True if `id` names this message: its client id (UNIQ_KEY), its first id before it was
// retried (ORIGIN_MESSAGE_ID) or its offsetMsgId. An empty id matches every message.
bool dlq_message_matches(const wire::MessageExt& m, const std::string& id);

// The message to send again for a DLQ record: the original topic (RETRY_TOPIC), body, flag,
// tags, keys and user properties; the broker's retry / schedule properties are dropped and the
// client id is the original one. False (with *why) when the record has no RETRY_TOPIC.
bool message_to_resend(const wire::MessageExt& m, client::Message* out, std::string* why);

int query_dlq_message(const AdminArgs& args, client::ClientInstance& client, std::ostream& out, std::ostream& err);
int resend_dlq_message(const AdminArgs& args, client::ClientInstance& client, std::ostream& out, std::ostream& err);
int cancel_scheduled_message(const AdminArgs& args, client::ClientInstance& client, std::ostream& out,
                             std::ostream& err);

}  // namespace mq::admin
