// TransactionProducer: sends a message as a PREPARED half, runs the application's local
// transaction, then commits or rolls the half back on the broker. Halves whose outcome the
// broker never learned (the producer crashed, the end call was lost, the listener answered
// UNKNOW) are checked back: the producer long-polls every master broker of its cluster for
// due checks (pollTransactionChecks) and answers each with the listener's
// check_local_transaction. Thread-safe once started. No method throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mq/client/export.h"
#include "mq/client/message.h"
#include "mq/client/send_result.h"
#include "mq/client/status.h"

namespace mq::client {

// RocketMQ LocalTransactionState (UNKNOW spelt as in RocketMQ).
enum class LocalTransactionState : int32_t { kCommitMessage = 0, kRollbackMessage = 1, kUnknow = 2 };
MQ_CLIENT_API const char* local_transaction_state_name(LocalTransactionState state) noexcept;

// The application's side of a transaction. Both methods may run concurrently on SDK threads
// (execute on the sending thread, check on check threads); an exception counts as kUnknow.
class MQ_CLIENT_API TransactionListener {
 public:
  virtual ~TransactionListener() = default;
  // Runs the local transaction after the half was stored.
  virtual LocalTransactionState execute_local_transaction(const Message& message, const std::string& arg) = 0;
  // Answers a check-back: the outcome of the local transaction that sent `message` (its
  // msg_id() is the half's client id; topic and queue are the real ones).
  virtual LocalTransactionState check_local_transaction(const MessageExt& message) = 0;
};

struct TransactionSendResult : SendResult {
  // kRollbackMessage without running the listener when the half was not stored.
  LocalTransactionState local_state = LocalTransactionState::kUnknow;
  std::string transaction_id;  // the half's client id (UNIQ_KEY)
};

class MQ_CLIENT_API TransactionProducer {
 public:
  explicit TransactionProducer(std::string group);
  ~TransactionProducer();  // calls shutdown()
  TransactionProducer(const TransactionProducer&) = delete;
  TransactionProducer& operator=(const TransactionProducer&) = delete;

  // Configuration: call before start().
  void set_namesrv_addr(std::string addresses);  // "host:port;host:port"; else $NAMESRV_ADDR
  void set_transaction_listener(std::shared_ptr<TransactionListener> listener);  // required
  void set_send_timeout_ms(int timeout_ms);                                      // default 3000
  void set_retry_times_when_send_failed(int times);                              // default 2
  void set_max_message_size(int64_t bytes);                                      // default 4 MiB
  // How long the broker may hold a check-back poll (default 15000 ms).
  void set_check_poll_timeout_ms(int timeout_ms);
  // Threads running check_local_transaction (default 2).
  void set_check_thread_count(int threads);
  // How often the brokers to poll and heartbeat are re-read from the name server (default 30000).
  void set_broker_refresh_interval_ms(int interval_ms);
  void set_heartbeat_interval_ms(int interval_ms);  // default 30000
  const std::string& group() const;

  Status start();
  // Stops the polls (held ones are interrupted), finishes running checks; idempotent.
  Status shutdown();

  // Sends `message` as a half (sys flag PREPARED, TRAN_MSG=true, PGROUP), runs
  // execute_local_transaction(message, arg), then ends the transaction with its answer
  // (COMMIT / ROLLBACK; UNKNOW leaves it to the check-back). A failed end call is logged: the
  // check-back settles it. The result is the half's send result plus the local state.
  TransactionSendResult send_message_in_transaction(const Message& message, const std::string& arg = {});

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mq::client
