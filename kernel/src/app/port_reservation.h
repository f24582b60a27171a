// PortReservation: picks a free TCP port for "listenPort=0" before the plugins start, so
// the broker's identity (stored in every message's store host) carries the real port.
#pragma once

#include <cstdint>

#include "mq/status.h"

namespace mq::kernel {

// Holds a socket bound (SO_REUSEADDR, not listening) to 0.0.0.0:<port>. While held, the
// kernel hands the port to no other bind(0), yet a listener with SO_REUSEADDR can still
// bind it. Release it once the real server listens. Not thread-safe; main thread only.
class PortReservation {
 public:
  static Result<PortReservation> reserve_any();
  PortReservation(PortReservation&& other) noexcept : fd_(other.fd_), port_(other.port_) { other.fd_ = -1; }
  PortReservation& operator=(PortReservation&& other) noexcept;
  ~PortReservation() { release(); }

  uint16_t port() const { return port_; }
  void release();  // idempotent

 private:
  PortReservation(int fd, uint16_t port) : fd_(fd), port_(port) {}
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace mq::kernel
