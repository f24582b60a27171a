// next_read_capacity: the read buffer's size as a connection's traffic changes.
#include "read_buffer_policy.h"

#include <gtest/gtest.h>

namespace mq::transport_thrift {
namespace {

constexpr size_t kKiB = 1024;

constexpr size_t kBatch128 = 64 * 220 + 4;  // 64 messages of 128 B with their properties

TEST(ReadBufferPolicy, StartsAt64KiBAndStaysThereForOneRequestAtATime) {
  EXPECT_EQ(next_read_capacity(0, 0, kReadBufferBytes, false, 0), kReadBufferBytes);
  // Reads of one request each never fill the room: nothing changes, whatever the size.
  for (size_t buffered : {size_t{0}, size_t{200}, 60 * kKiB}) {
    EXPECT_EQ(next_read_capacity(kReadBufferBytes, buffered, kReadBufferBytes, false, 200), 0u) << buffered;
    EXPECT_EQ(next_read_capacity(kReadBufferBytes, buffered, kReadBufferBytes, false, kBatch128), 0u) << buffered;
  }
}

TEST(ReadBufferPolicy, AFilledReadOfFewFramesGrowsTheBufferOnceAndItStays) {
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 3 * kKiB, kReadBufferBytes, true, kBatch128),
            kPipelinedReadBufferBytes);
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 0, kReadBufferBytes, true, 4 * kKiB + 4), kPipelinedReadBufferBytes);
  EXPECT_EQ(next_read_capacity(kPipelinedReadBufferBytes, 3 * kKiB, kReadBufferBytes, true, kBatch128), 0u);
  EXPECT_EQ(next_read_capacity(kPipelinedReadBufferBytes, 0, kReadBufferBytes, false, 200), 0u);  // no shrinking
  // Batch frames it can hold keep it as it is.
  EXPECT_EQ(next_read_capacity(kPipelinedReadBufferBytes, 10 * kKiB, 100 * kKiB, true, 100 * kKiB), 0u);
}

TEST(ReadBufferPolicy, AFilledReadOfManySmallFramesKeeps64KiB) {
  // 16 or more frames per read already: more would add cache misses, not fewer calls.
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 100, kReadBufferBytes, true, 200), 0u);
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 100, kReadBufferBytes, true, 4 * kKiB), 0u);
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 0, kReadBufferBytes, true, 0), 0u);  // nothing dispatched yet
}

TEST(ReadBufferPolicy, ABatchFrameGetsRoomForFourAndItStays) {
  const size_t frame = 68 * kKiB + 4;  // 64 messages of 1 KiB
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 100, frame, false, kBatch128), 4 * frame);
  EXPECT_EQ(next_read_capacity(4 * frame, 0, kReadBufferBytes, false, frame), 0u);
  EXPECT_EQ(next_read_capacity(4 * frame, 0, kReadBufferBytes, true, frame), 0u);
  // Four would pass kKeptReadBufferBytes: capped there.
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 100, 300 * kKiB, false, 0), kKeptReadBufferBytes);
  // A larger frame than the pipelined buffer holds.
  EXPECT_EQ(next_read_capacity(kPipelinedReadBufferBytes, 100, 300 * kKiB, true, kBatch128), kKeptReadBufferBytes);
}

TEST(ReadBufferPolicy, AFrameLargerThanTheKeptSizeGetsExactlyItsSizeThenTheBufferShrinks) {
  const size_t frame = 2048 * kKiB + 4;
  EXPECT_EQ(next_read_capacity(kReadBufferBytes, 100, frame, false, 200), frame);
  // While part of it is still buffered past 64 KiB: kept.
  EXPECT_EQ(next_read_capacity(frame, 100 * kKiB, kReadBufferBytes, false, frame), 0u);
  EXPECT_EQ(next_read_capacity(frame, 0, kReadBufferBytes, false, frame), kReadBufferBytes);
  EXPECT_EQ(next_read_capacity(frame, 0, kReadBufferBytes, true, frame), kReadBufferBytes);  // shrinks first
}

}  // namespace
}  // namespace mq::transport_thrift
