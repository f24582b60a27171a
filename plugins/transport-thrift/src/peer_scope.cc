// Thread-local current peer (see peer_scope.h).
#include "peer_scope.h"

namespace mq::transport_thrift {
namespace {

const std::string kNoPeer;
thread_local const std::string* t_peer = nullptr;

}  // namespace

const std::string& current_peer() { return t_peer ? *t_peer : kNoPeer; }

PeerScope::PeerScope(const std::string& peer) : previous_(t_peer) { t_peer = &peer; }

PeerScope::~PeerScope() { t_peer = previous_; }

}  // namespace mq::transport_thrift
