// TransactionService: what the transaction plugin serves to the kernel's request dispatch
// (end transaction, check-back long polls). Without the plugin the kernel refuses
// transactional sends and these calls with REQUEST_CODE_NOT_SUPPORTED
// "transaction plugin not loaded".
#pragma once

#include <boost/config.hpp>  // BOOST_SYMBOL_VISIBLE

#include <string_view>

#include "mq/broker_api.h"

namespace mq {

inline constexpr std::string_view kTransactionHalfTopic = "RMQ_SYS_TRANS_HALF_TOPIC";
inline constexpr std::string_view kTransactionOpHalfTopic = "RMQ_SYS_TRANS_OP_HALF_TOPIC";

// Threading: safe from any transport thread; replies may run on any thread; never blocks.
class BOOST_SYMBOL_VISIBLE TransactionService {
 public:
  static constexpr std::string_view kServiceName = "TransactionService";
  virtual ~TransactionService() = default;
  virtual void end_transaction(EndTransaction request, Reply<Status> reply) = 0;
  virtual void poll_checks(TransactionCheckPoll request, Reply<TransactionChecks> reply) = 0;
};

}  // namespace mq
