// The real DurableStore: one SQLite file (libsqlite3) in WAL mode with synchronous=FULL, so a
// commit is on disk before it is acknowledged and a kill -9 or power loss at any moment loses
// no acknowledged change.
//
// - open() creates the file (mode 0600) if absent, checks it (PRAGMA quick_check) and brings
//   its schema up to date. Errors say what to do: a corrupt file ("restore a backup or move it
//   aside"), a file written by a newer warren, a file that is not a warren store, a directory
//   that cannot be written.
// - commit() runs the batch in one transaction synchronously (this thread blocks on the fsync),
//   then posts `on_done` on the Clock, so it never runs inside commit(). On an error (disk
//   full, I/O error) the transaction is rolled back and nothing of the batch applied.
// - Schema versions live in PRAGMA user_version; each version is one migration appended to the
//   list in sqlite_store.cc and applied in its own transaction, so an interrupted upgrade leaves
//   the previous version intact.
// Threading: one thread (the loop's). Pending callbacks of a destroyed store never run.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "nodes/net/clock.h"
#include "nodes/net/durable_store.h"
#include "nodes/net/time.h"

struct sqlite3;
struct sqlite3_stmt;

namespace warren {

class SqliteStore final : public DurableStore {
 public:
  // How long a statement waits for a lock held by another connection (a backup tool, the
  // sqlite3 shell) before failing, so such a reader stalls us briefly instead of failing writes.
  static constexpr Duration kBusyTimeout = Duration::seconds(5);
  // The schema version this build writes: the number of migrations it knows.
  static int schema_version();

  static Result<std::unique_ptr<SqliteStore>> open(Clock& clock, const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<std::vector<StoreRecord>> load_all() override;
  void commit(StoreBatch batch, Done on_done) override;

  const std::string& path() const { return path_; }
  // Runs raw SQL on the connection. Only for tests that need to provoke failures (e.g.
  // `PRAGMA max_page_count` to simulate a full disk).
  Status execute_for_testing(std::string_view sql);

 private:
  SqliteStore(Clock& clock, std::string path, sqlite3* db);
  Status prepare_statements();
  Status apply(const StoreBatch& batch);
  void finalize_statements();

  Clock& clock_;
  std::string path_;
  sqlite3* db_;
  sqlite3_stmt* put_ = nullptr;
  sqlite3_stmt* delete_ = nullptr;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace warren
