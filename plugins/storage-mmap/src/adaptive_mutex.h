// AdaptiveMutex: a mutex that spins briefly before it sleeps (glibc's adaptive pthread
// mutex), for locks held for well under a microsecond by threads on different CPUs.
//
// Why: with std::mutex a thread that finds the lock taken sleeps in the kernel at once and
// the holder's unlock wakes it, usually on the other CPU: a futex wait, a futex wake, an
// inter-processor interrupt and two context switches for a wait of a few hundred
// nanoseconds. Spinning first lets the waiter take the lock the moment it is released.
#pragma once

#include <pthread.h>

#include <system_error>

namespace mq::storage_mmap {

// Threading: as std::mutex (Lockable; works with std::lock_guard and std::unique_lock).
class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() {
    if (int err = pthread_mutex_lock(&mu_); err != 0)
      throw std::system_error(err, std::generic_category(), "mutex lock");
  }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_;
};

}  // namespace mq::storage_mmap
