#include "nodes/real/sqlite_store.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/real/temp_dir.h"
#include "tests/support/manual_clock.h"

namespace warren {
namespace {

using ::testing::HasSubstr;

Bytes b(const std::string& s) {
  return Bytes(s.begin(), s.end());
}

std::vector<std::string> dump(DurableStore& store) {
  auto all = store.load_all();
  EXPECT_TRUE(all.ok()) << (all.ok() ? "" : all.error().message);
  std::vector<std::string> out;
  if (!all.ok()) return out;
  for (const auto& r : *all) {
    out.push_back(r.table + "/" + r.key + "=" + std::string(r.value.begin(), r.value.end()));
  }
  return out;
}

std::unique_ptr<SqliteStore> open_ok(Clock& clock, const std::string& path) {
  auto store = SqliteStore::open(clock, path);
  EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
  return store.ok() ? std::move(store.value()) : nullptr;
}

// Commits and runs the clock until the callback came; returns its status.
Status commit_sync(ManualClock& clock, DurableStore& store, StoreBatch batch) {
  Status result = make_error("callback never ran");
  store.commit(std::move(batch), [&](const Status& s) { result = s; });
  clock.advance(Duration::zero());
  return result;
}

StoreBatch puts(std::vector<StoreRecord> records) {
  StoreBatch batch;
  batch.puts = std::move(records);
  return batch;
}

void overwrite(const std::string& path, off_t offset, size_t count) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT, 0600);
  ASSERT_GE(fd, 0);
  const std::string garbage(count, '\x5a');
  ASSERT_EQ(pwrite(fd, garbage.data(), garbage.size(), offset), static_cast<ssize_t>(count));
  ::close(fd);
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(dir_.ok()); }
  std::string db() const { return dir_.file("control.db"); }
  TempDir dir_;
  ManualClock clock_;
};

TEST_F(SqliteStoreTest, RoundTripsRecordsOrderedByTableThenKey) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  EXPECT_TRUE(dump(*store).empty());
  ASSERT_TRUE(commit_sync(clock_, *store,
                          puts({{"users", "bob", b("2")},
                                {"nodes", "n1", b("x")},
                                {"users", "alice", b("1")},
                                {"t", "empty", Bytes()}}))
                  .ok());
  EXPECT_EQ(dump(*store),
            (std::vector<std::string>{"nodes/n1=x", "t/empty=", "users/alice=1", "users/bob=2"}));
}

TEST_F(SqliteStoreTest, KeepsBinaryValuesAndKeysExactly) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  Bytes value = {0, 1, 2, 0xff, 0, 0x80};
  const std::string key("a\0b", 3);
  ASSERT_TRUE(commit_sync(clock_, *store, puts({{"bin", key, value}})).ok());
  auto all = store->load_all();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, key);
  EXPECT_EQ((*all)[0].value, value);
}

TEST_F(SqliteStoreTest, CallbacksRunAfterCommitReturnsAndInCommitOrder) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  std::vector<int> order;
  bool inside = true;
  for (int i = 0; i < 4; ++i) {
    store->commit(puts({{"t", std::to_string(i), b("v")}}), [&, i](const Status& s) {
      EXPECT_TRUE(s.ok());
      EXPECT_FALSE(inside);
      order.push_back(i);
    });
  }
  inside = false;
  EXPECT_TRUE(order.empty());
  clock_.advance(Duration::zero());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(SqliteStoreTest, ReplacesAndDeletes) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  ASSERT_TRUE(commit_sync(clock_, *store, puts({{"t", "a", b("1")}, {"t", "b", b("2")}})).ok());
  StoreBatch batch;
  batch.puts.push_back({"t", "a", b("one")});
  batch.deletes.push_back({"t", "b"});
  batch.deletes.push_back({"t", "absent"});
  ASSERT_TRUE(commit_sync(clock_, *store, std::move(batch)).ok());
  EXPECT_EQ(dump(*store), (std::vector<std::string>{"t/a=one"}));
}

TEST_F(SqliteStoreTest, ReopenFindsEverythingCommitted) {
  {
    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    ASSERT_TRUE(commit_sync(clock_, *store, puts({{"users", "alice", b("1")}})).ok());
    ASSERT_TRUE(commit_sync(clock_, *store, puts({{"nodes", "1", b("laptop")}})).ok());
  }
  auto again = open_ok(clock_, db());
  ASSERT_TRUE(again);
  EXPECT_EQ(dump(*again), (std::vector<std::string>{"nodes/1=laptop", "users/alice=1"}));
}

TEST_F(SqliteStoreTest, CreatesTheFileReadableOnlyByItsOwner) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  ASSERT_TRUE(commit_sync(clock_, *store, puts({{"t", "k", b("v")}})).ok());
  for (const std::string& path : {db(), db() + "-wal"}) {
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << path;
  }
}

TEST_F(SqliteStoreTest, AFailedBatchIsRolledBackEntirelyAndTheStoreStaysUsable) {
  auto store = open_ok(clock_, db());
  ASSERT_TRUE(store);
  ASSERT_TRUE(commit_sync(clock_, *store, puts({{"t", "keep", b("1")}})).ok());
  // A cap on the file's pages stands in for a full disk: SQLite fails with SQLITE_FULL midway.
  ASSERT_TRUE(store->execute_for_testing("PRAGMA max_page_count = 8").ok());
  StoreBatch big;
  for (int i = 0; i < 20; ++i) big.puts.push_back({"big", std::to_string(i), Bytes(16384, 7)});
  big.deletes.push_back({"t", "keep"});
  Status failed = commit_sync(clock_, *store, std::move(big));
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message, HasSubstr("full"));
  EXPECT_THAT(failed.error().message, HasSubstr("free disk space"));
  EXPECT_THAT(failed.error().message, HasSubstr("nothing of this change was stored"));
  EXPECT_EQ(dump(*store), (std::vector<std::string>{"t/keep=1"}));

  ASSERT_TRUE(store->execute_for_testing("PRAGMA max_page_count = 1000000").ok());
  ASSERT_TRUE(commit_sync(clock_, *store, puts({{"t", "after", b("2")}})).ok());
  EXPECT_EQ(dump(*store), (std::vector<std::string>{"t/after=2", "t/keep=1"}));
}

TEST_F(SqliteStoreTest, RefusesAFileFromANewerSchemaVersion) {
  {
    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    const std::string newer = std::to_string(SqliteStore::schema_version() + 1);
    ASSERT_TRUE(store->execute_for_testing("PRAGMA user_version = " + newer).ok());
  }
  auto again = SqliteStore::open(clock_, db());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr(db()));
  EXPECT_THAT(again.error().message, HasSubstr("newer than this warren understands"));
}

TEST_F(SqliteStoreTest, RefusesAnotherProgramsDatabase) {
  {
    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->execute_for_testing("PRAGMA application_id = 42").ok());
  }
  auto again = SqliteStore::open(clock_, db());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message, HasSubstr("is not a warren store"));
}

TEST_F(SqliteStoreTest, AFileOfGarbageGivesTheCorruptFileError) {
  overwrite(db(), 0, 8192);
  auto store = SqliteStore::open(clock_, db());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(db() + " is corrupt ("));
  EXPECT_THAT(store.error().message, HasSubstr("restore a backup or move it aside to start empty"));
}

TEST_F(SqliteStoreTest, GarbageWrittenOverAStoreGivesTheCorruptFileError) {
  {
    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    ASSERT_TRUE(commit_sync(clock_, *store, puts({{"t", "k", b("v")}})).ok());
  }
  struct stat st {};
  ASSERT_EQ(stat(db().c_str(), &st), 0);
  overwrite(db(), 0, static_cast<size_t>(st.st_size));
  auto store = SqliteStore::open(clock_, db());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(db() + " is corrupt ("));
  EXPECT_THAT(store.error().message, HasSubstr("restore a backup or move it aside to start empty"));
}

TEST_F(SqliteStoreTest, ADamagedPageGivesTheCorruptFileError) {
  {
    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    StoreBatch batch;
    for (int i = 0; i < 200; ++i) batch.puts.push_back({"t", std::to_string(i), Bytes(100, 1)});
    ASSERT_TRUE(commit_sync(clock_, *store, std::move(batch)).ok());
  }  // the last connection checkpoints the WAL into the main file
  struct stat st {};
  ASSERT_EQ(stat(db().c_str(), &st), 0);
  ASSERT_GE(st.st_size, 3 * 4096);
  overwrite(db(), 4096, 4096);  // page 2: the records table's root
  auto store = SqliteStore::open(clock_, db());
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr(db() + " is corrupt ("));
}

TEST_F(SqliteStoreTest, AMissingDirectoryIsAnError) {
  auto store = SqliteStore::open(clock_, dir_.file("no/such/dir/control.db"));
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message, HasSubstr("cannot create"));
  EXPECT_THAT(store.error().message, HasSubstr("no/such/dir/control.db"));
}

// Root ignores directory permissions, so the check runs in a child that drops to "nobody".
TEST_F(SqliteStoreTest, ANonWritableDirectoryIsAnError) {
  const std::string locked = dir_.file("locked");
  ASSERT_EQ(mkdir(locked.c_str(), 0555), 0);
  ASSERT_EQ(chmod(dir_.path().c_str(), 0755), 0);
  const std::string path = locked + "/control.db";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(3);
    ManualClock clock;
    auto store = SqliteStore::open(clock, path);
    const std::string message = store.ok() ? "" : store.error().message;
    if (write(fds[1], message.data(), message.size()) < 0) _exit(4);
    _exit(store.ok() ? 1 : 0);
  }
  close(fds[1]);
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) message.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0) << "opening in a read-only directory succeeded";
  EXPECT_THAT(message, HasSubstr("cannot create " + path));
  EXPECT_THAT(message, HasSubstr("writable"));
}

// A child commits batches as fast as it can and acknowledges each one (from its callback, as
// the control server does) by writing its sequence number to a pipe. We SIGKILL it at a random
// moment, reopen the file, and check every acknowledged batch is there, whole.
TEST_F(SqliteStoreTest, AKillNineLosesNoAcknowledgedCommit) {
  // Rounds of kill and reopen; each round continues the same file, so recovery of a WAL left
  // by a killed writer is exercised too.
  constexpr int kRounds = 4;
  // Bounds the child's loop if the parent dies without killing it.
  constexpr uint64_t kMaxCommitsPerChild = 1'000'000;
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 rng(seed);
  uint64_t next_seq = 0;
  std::set<uint64_t> acknowledged;
  for (int round = 0; round < kRounds; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const uint64_t first = next_seq;
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      ManualClock clock;
      auto store = SqliteStore::open(clock, db());
      if (!store.ok()) _exit(2);
      for (uint64_t seq = first; seq < first + kMaxCommitsPerChild; ++seq) {
        StoreBatch batch;
        batch.puts.push_back({"a", std::to_string(seq), b("first half")});
        batch.puts.push_back({"b", std::to_string(seq), b("second half")});
        (*store)->commit(std::move(batch), [&](const Status& s) {
          if (!s.ok()) _exit(3);
          if (write(fds[1], &seq, sizeof seq) != sizeof seq) _exit(4);
        });
        clock.advance(Duration::zero());
      }
      _exit(0);
    }
    close(fds[1]);
    const int acks_before_kill = std::uniform_int_distribution<int>(1, 400)(rng);
    uint64_t seq = 0;
    for (int i = 0; i < acks_before_kill && read(fds[0], &seq, sizeof seq) == sizeof seq; ++i) {
      acknowledged.insert(seq);
    }
    std::this_thread::sleep_for(
        std::chrono::microseconds(std::uniform_int_distribution<int>(0, 3000)(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
    // Acknowledgements written before the kill are still in the pipe.
    while (read(fds[0], &seq, sizeof seq) == sizeof seq) acknowledged.insert(seq);
    close(fds[0]);
    ASSERT_FALSE(acknowledged.empty());

    auto store = open_ok(clock_, db());
    ASSERT_TRUE(store);
    auto all = store->load_all();
    ASSERT_TRUE(all.ok());
    std::set<std::string> a_keys;
    std::set<std::string> b_keys;
    for (const auto& r : *all) (r.table == "a" ? a_keys : b_keys).insert(r.key);
    EXPECT_EQ(a_keys, b_keys) << "a batch was stored in part";
    for (uint64_t acked : acknowledged) {
      ASSERT_EQ(a_keys.count(std::to_string(acked)), 1u)
          << "acknowledged commit " << acked << " was lost in round " << round;
    }
    next_seq = a_keys.size();  // keys 0..n-1 are contiguous: commits are sequential
    ASSERT_EQ(a_keys.count(std::to_string(next_seq - 1)), 1u);
  }
}

}  // namespace
}  // namespace warren
