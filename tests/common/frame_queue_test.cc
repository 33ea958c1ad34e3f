#include "nodes/common/frame_queue.h"

#include <gtest/gtest.h>

#include <string>

namespace warren::relay {
namespace {

std::string text(const Bytes& b) {
  return std::string(b.begin(), b.end());
}
ByteView view(const std::string& s) {
  return ByteView(std::string_view(s));
}

TEST(FrameQueueTest, IdleQueueHoldsNoSlots) {
  FrameQueue q(4);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.allocated());
  EXPECT_EQ(q.capacity(), 4u);
}

TEST(FrameQueueTest, KeepsOrderAndReleasesMemoryWhenDrained) {
  FrameQueue q(4);
  const std::string a = "a", b = "bb", c = "ccc";
  EXPECT_FALSE(q.push(view(a)));
  EXPECT_FALSE(q.push(view(b)));
  EXPECT_FALSE(q.push(view(c)));
  EXPECT_TRUE(q.allocated());
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(text(q.front()), "a");
  q.pop_front();
  EXPECT_EQ(text(q.front()), "bb");
  q.pop_front();
  EXPECT_EQ(text(q.front()), "ccc");
  q.pop_front();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.allocated());
}

TEST(FrameQueueTest, FullQueueDropsTheOldest) {
  FrameQueue q(3);
  int dropped = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string s = std::to_string(i);
    dropped += q.push(view(s)) ? 1 : 0;
  }
  EXPECT_EQ(dropped, 7);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(text(q.front()), "7");
  q.pop_front();
  EXPECT_EQ(text(q.front()), "8");
  q.pop_front();
  EXPECT_EQ(text(q.front()), "9");
}

TEST(FrameQueueTest, WrapsAroundWhilePartlyDrained) {
  FrameQueue q(2);
  for (int i = 0; i < 100; ++i) {
    const std::string s = std::to_string(i);
    EXPECT_FALSE(q.push(view(s)));
    EXPECT_EQ(text(q.front()), std::to_string(i));
    q.pop_front();
  }
  EXPECT_TRUE(q.empty());
}

TEST(FrameQueueTest, ClearDropsEverything) {
  FrameQueue q(2);
  const std::string s = "x";
  (void)q.push(view(s));
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.allocated());
  EXPECT_FALSE(q.push(view(s)));
  EXPECT_EQ(q.size(), 1u);
}

TEST(FrameQueueTest, ZeroCapacityMeansOne) {
  FrameQueue q(0);
  const std::string a = "a", b = "b";
  EXPECT_FALSE(q.push(view(a)));
  EXPECT_TRUE(q.push(view(b)));
  EXPECT_EQ(text(q.front()), "b");
}

}  // namespace
}  // namespace warren::relay
