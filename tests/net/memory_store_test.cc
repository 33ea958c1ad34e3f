#include "nodes/net/memory_store.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/support/manual_clock.h"

namespace warren {
namespace {

Bytes b(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

StoreBatch puts(std::vector<StoreRecord> records) {
  StoreBatch batch;
  batch.puts = std::move(records);
  return batch;
}

std::vector<std::string> dump(DurableStore& store) {
  auto all = store.load_all();
  EXPECT_TRUE(all.ok());
  std::vector<std::string> out;
  for (const auto& r : *all) {
    out.push_back(r.table + "/" + r.key + "=" + std::string(r.value.begin(), r.value.end()));
  }
  return out;
}

TEST(MemoryStore, CommitsABatchAndLoadsItOrderedByTableThenKey) {
  ManualClock clock;
  MemoryStore store(clock, std::make_shared<MemoryStoreData>());
  store.commit(
      puts({{"users", "bob", b("2")}, {"nodes", "n1", b("x")}, {"users", "alice", b("1")}}),
      nullptr);
  clock.advance(Duration::zero());
  EXPECT_EQ(dump(store), (std::vector<std::string>{"nodes/n1=x", "users/alice=1", "users/bob=2"}));
  EXPECT_EQ(store.data().commits, 1u);
}

TEST(MemoryStore, CallbackRunsAfterCommitReturnsNeverInsideIt) {
  ManualClock clock;
  MemoryStore store(clock, std::make_shared<MemoryStoreData>());
  bool inside = true;
  int calls = 0;
  store.commit(puts({{"t", "k", b("v")}}), [&](const Status& s) {
    EXPECT_TRUE(s.ok());
    EXPECT_FALSE(inside);
    ++calls;
  });
  inside = false;
  EXPECT_EQ(calls, 0);
  clock.advance(Duration::zero());
  EXPECT_EQ(calls, 1);
}

TEST(MemoryStore, CallbacksRunInCommitOrder) {
  ManualClock clock;
  MemoryStore store(clock, std::make_shared<MemoryStoreData>());
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) {
    store.commit(puts({{"t", std::to_string(i), b("v")}}),
                 [&order, i](const Status&) { order.push_back(i); });
  }
  clock.advance(Duration::zero());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(MemoryStore, DeletesAndReplacesAndIgnoresAbsentKeys) {
  ManualClock clock;
  MemoryStore store(clock, std::make_shared<MemoryStoreData>());
  store.commit(puts({{"t", "a", b("1")}, {"t", "b", b("2")}}), nullptr);
  StoreBatch batch;
  batch.puts.push_back({"t", "a", b("one")});
  batch.deletes.push_back({"t", "b"});
  batch.deletes.push_back({"t", "never-there"});
  store.commit(std::move(batch), nullptr);
  clock.advance(Duration::zero());
  EXPECT_EQ(dump(store), (std::vector<std::string>{"t/a=one"}));
}

TEST(MemoryStore, AFailedCommitAppliesNothingOfItsBatchAndReportsAnError) {
  ManualClock clock;
  auto data = std::make_shared<MemoryStoreData>();
  MemoryStore store(clock, data);
  store.commit(puts({{"t", "keep", b("1")}}), nullptr);
  data->fail_next_commits = 1;
  Status failed;
  StoreBatch batch;
  batch.puts.push_back({"t", "new", b("2")});
  batch.deletes.push_back({"t", "keep"});
  store.commit(std::move(batch), [&](const Status& s) { failed = s; });
  Status later = make_error("not called");
  store.commit(puts({{"t", "after", b("3")}}), [&](const Status& s) { later = s; });
  clock.advance(Duration::zero());
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("disk full"), std::string::npos);
  EXPECT_TRUE(later.ok());  // only the next commit failed
  EXPECT_EQ(dump(store), (std::vector<std::string>{"t/after=3", "t/keep=1"}));
  EXPECT_EQ(data->fail_next_commits, 0);
}

TEST(MemoryStore, DataSurvivesANewStoreOverTheSameData) {
  ManualClock clock;
  auto data = std::make_shared<MemoryStoreData>();
  {
    MemoryStore first(clock, data);
    first.commit(puts({{"users", "alice", b("1")}}), nullptr);
    clock.advance(Duration::zero());
  }
  MemoryStore second(clock, data);
  EXPECT_EQ(dump(second), (std::vector<std::string>{"users/alice=1"}));
}

TEST(MemoryStore, CallbacksOfADestroyedStoreDoNotRun) {
  ManualClock clock;
  auto data = std::make_shared<MemoryStoreData>();
  bool called = false;
  {
    MemoryStore store(clock, data);
    store.commit(puts({{"t", "k", b("v")}}), [&](const Status&) { called = true; });
  }
  clock.advance(Duration::zero());
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace warren
