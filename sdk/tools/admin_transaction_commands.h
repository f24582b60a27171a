// mqadmin commands for transactional half messages that were checked transactionCheckMax
// times without an outcome (the broker copied them to TRANS_CHECK_MAX_TIME_TOPIC):
//   queryCheckMaxHalfMessage [-g group] [-c n] [-i msgId]   list them
//   resumeCheckHalfMessage -i msgId                         send one again as a PREPARED half
//                                                           of its group, so checks start over
// The pure part (the send request that resumes a record) is declared here for tests.
#pragma once

#include <ostream>
#include <string>

#include "admin_args.h"
#include "client_instance.h"
#include "mq_types.h"

namespace mq::admin {

// The PREPARED send that resumes a TRANS_CHECK_MAX_TIME_TOPIC record: topic REAL_TOPIC, group
// PGROUP, body / flag / user properties and UNIQ_KEY kept, the broker's transaction properties
// dropped, sysFlag 4. False (with *why) when REAL_TOPIC or PGROUP is missing.
bool half_to_resume(const wire::MessageExt& m, wire::SendRequest* out, std::string* why);

int query_check_max_half_message(const AdminArgs& args, client::ClientInstance& client, std::ostream& out,
                                 std::ostream& err);
int resume_check_half_message(const AdminArgs& args, client::ClientInstance& client, std::ostream& out,
                              std::ostream& err);

}  // namespace mq::admin
