// mqadmin commands: each talks to the name servers / brokers through the SDK's
// ClientInstance (or the public Producer) and prints aligned tables.
#pragma once

#include <ostream>

#include "admin_args.h"

namespace mq::admin {

// Exit codes: 0 success, 1 an RPC or server error (printed as CODE_NAME(n): remark), 2 usage.
int run_command(const AdminArgs& args, std::ostream& out, std::ostream& err);

}  // namespace mq::admin
