// Back ends for our broker: "raw" drives the generated Thrift client over ClientChannel
// directly (pipelined async calls, batches of many messages per call); "sdk" goes through the
// public mq::client Producer / PullConsumer / PushConsumer.
#pragma once

#include <memory>
#include <string>

#include "backend.h"

namespace mq::bench {

// options.backend "raw" (needs --server) or "sdk" (needs --namesrv, and --server for createTopic).
std::unique_ptr<Backend> make_mq_backend(const BenchOptions& options, std::string* error);

}  // namespace mq::bench
