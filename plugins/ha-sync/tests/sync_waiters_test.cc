// SyncWaiters: ordering by offset, expiry, and the closed state a racing stop() relies on.
#include <gtest/gtest.h>

#include "sync_waiters.h"

namespace mq::ha {
namespace {

using Clock = SyncWaiters::Clock;

TEST(SyncWaitersTest, AckedCompletesWaitersUpToTheOffset) {
  SyncWaiters w;
  int done = 0;
  const auto far = Clock::now() + std::chrono::hours(1);
  for (int64_t end : {10, 20, 30}) {
    SyncWaiters::Done d = [&](Status) { ++done; };
    EXPECT_EQ(w.add(end, far, d), SyncWaiters::Added::kHeld);
  }
  for (auto& d : w.acked(20)) d(Status::ok());
  EXPECT_EQ(done, 2);
  SyncWaiters::Done d = [&](Status) { ++done; };
  EXPECT_EQ(w.add(15, far, d), SyncWaiters::Added::kAlreadyAcked);
  EXPECT_TRUE(d);  // not taken: the caller completes it
  EXPECT_EQ(w.size(), 1u);
}

TEST(SyncWaitersTest, AddAfterCloseIsRefusedAndKeepsNothing) {
  // Race of review finding 2: after_store saw running, stop() drained the waiters, then
  // add() ran. It must not keep a completion nobody will ever call.
  SyncWaiters w;
  const auto far = Clock::now() + std::chrono::hours(1);
  SyncWaiters::Done held = [](Status) {};
  ASSERT_EQ(w.add(10, far, held), SyncWaiters::Added::kHeld);
  EXPECT_EQ(w.close().size(), 1u);
  SyncWaiters::Done late = [](Status) {};
  EXPECT_EQ(w.add(20, far, late), SyncWaiters::Added::kClosed);
  EXPECT_TRUE(late);  // still the caller's to complete
  EXPECT_EQ(w.size(), 0u);
  EXPECT_TRUE(w.take_all().empty());
}

}  // namespace
}  // namespace mq::ha
