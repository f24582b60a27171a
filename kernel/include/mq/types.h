// Strong integer types for the two offsets that are easy to confuse: a byte position in
// the commit log and a logical message index in one consume queue.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace mq {

template <typename Tag, typename Rep = int64_t>
class StrongInt {
 public:
  using rep = Rep;
  constexpr StrongInt() noexcept = default;
  constexpr explicit StrongInt(Rep v) noexcept : v_(v) {}
  constexpr Rep value() const noexcept { return v_; }
  constexpr auto operator<=>(const StrongInt&) const noexcept = default;
  constexpr StrongInt operator+(Rep d) const noexcept { return StrongInt(v_ + d); }
  constexpr StrongInt operator-(Rep d) const noexcept { return StrongInt(v_ - d); }
  constexpr Rep operator-(StrongInt o) const noexcept { return v_ - o.v_; }
  constexpr StrongInt& operator+=(Rep d) noexcept { v_ += d; return *this; }
  constexpr StrongInt& operator++() noexcept { ++v_; return *this; }

 private:
  Rep v_ = 0;
};

// Byte position of a record in the commit log (the physical offset).
using CommitLogOffset = StrongInt<struct CommitLogOffsetTag>;
// Index of a message within one (topic, queue) consume queue (the logical offset).
using QueueOffset = StrongInt<struct QueueOffsetTag>;
using QueueId = int32_t;

}  // namespace mq

template <typename Tag, typename Rep>
struct std::hash<mq::StrongInt<Tag, Rep>> {
  size_t operator()(mq::StrongInt<Tag, Rep> v) const noexcept { return std::hash<Rep>()(v.value()); }
};
