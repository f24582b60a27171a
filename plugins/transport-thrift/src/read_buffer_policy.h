// The size of a connection's read buffer (FrameServer): the capacity it gets before each
// read. One read takes every frame the socket holds, up to what the buffer has room for, and
// the replies of the frames one read brought go out in one write: so the buffer's size sets
// how many recv and sendmsg calls a pipelining peer costs per request.
#pragma once

#include <algorithm>
#include <cstddef>

namespace mq::transport_thrift {

// Every connection starts with this.
inline constexpr size_t kReadBufferBytes = 64 * 1024;
// A connection whose last read took all the room it had (the socket held more: a peer that
// pipelines requests) while holding fewer than kFramesPerRead of its frames gets this, and
// keeps it. Batch 64 x 128 B (16 KiB frames) from four producers: 17 k -> 9.5 k recv and
// sendmsg calls per 3 s, 8 % less broker CPU per message (docs/benchmarks.md, round 16). A
// peer sending one request at a time never fills 64 KiB; one pipelining small requests
// already has more of them per read than it may have in flight
// (transport-thrift.maxInflightPerConnection), and a larger buffer would only use more cache.
inline constexpr size_t kPipelinedReadBufferBytes = 256 * 1024;
inline constexpr size_t kFramesPerRead = 16;
// The buffer grows to hold a larger frame whole (up to maxFrameSize + 4). For a batch frame
// (over kReadBufferBytes, up to kKeptReadBufferBytes) it grows to hold about four such frames
// (at most kKeptReadBufferBytes) and stays so: batches keep coming at about one size, and
// growing again for each would copy each one's first part into the new buffer. Larger, it
// shrinks back to kReadBufferBytes once the frame is gone.
inline constexpr size_t kKeptReadBufferBytes = 512 * 1024;

// The capacity to give the buffer before the next read, or 0 to keep the one it has.
// `capacity`: the current one (0: no buffer yet); `buffered`: bytes read and not yet
// dispatched; `need`: bytes it must hold from the first buffered frame's start (at least
// kReadBufferBytes); `filled`: the last read took all the room it was given; `frame_bytes`:
// the size of the last frame dispatched (header included; 0 before the first).
inline size_t next_read_capacity(size_t capacity, size_t buffered, size_t need, bool filled, size_t frame_bytes) {
  if (need > capacity) {
    const bool batch_frame = need > kReadBufferBytes && need <= kKeptReadBufferBytes;
    return batch_frame ? std::max(need, std::min(4 * need, kKeptReadBufferBytes)) : need;
  }
  if (capacity > kKeptReadBufferBytes && need == kReadBufferBytes && buffered <= kReadBufferBytes)
    return kReadBufferBytes;
  if (filled && capacity < kPipelinedReadBufferBytes && kFramesPerRead * frame_bytes > capacity)
    return kPipelinedReadBufferBytes;
  return 0;
}

}  // namespace mq::transport_thrift
