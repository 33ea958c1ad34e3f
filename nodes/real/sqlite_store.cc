#include "nodes/real/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace warren {
namespace {

// 'WARN': marks a file as a warren store, so we never migrate another program's database.
constexpr int kApplicationId = 0x5741524E;

// One entry per schema version: kMigrations[v] takes a file from version v to v + 1. Append new
// versions at the end; never edit one that has shipped.
const char* const kMigrations[] = {
    // 1: one table of opaque records; the records carry their own format versions.
    "CREATE TABLE records(tbl TEXT NOT NULL, key TEXT NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY(tbl, key)) WITHOUT ROWID;"
    "PRAGMA application_id = 1463898702;",
};
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);
static_assert(kApplicationId == 1463898702, "migration 1 writes the application id literally");

bool is_corruption(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

Error corrupt_error(const std::string& path, const std::string& detail) {
  return make_error(path + " is corrupt (" + detail +
                    "); restore a backup or move it aside to start empty");
}

// What to do about a failed write, by the kind of failure.
std::string advice_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_FULL:
      return "; free disk space and try again";
    case SQLITE_IOERR:
      return "; check the disk (dmesg) and try again";
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return "; make the file and its directory writable by this user";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "; another program holds the database locked: stop it and try again";
    default:
      return "";
  }
}

// Runs SQL that returns no rows we need; errors carry the connection's message.
int exec(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
}

// Reads one integer from a single-row statement such as "PRAGMA user_version".
int query_int(sqlite3* db, const char* sql, int* out) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int(stmt, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(stmt);
  return rc;
}

// PRAGMA quick_check: "ok", or rows describing each problem (bounded by SQLite to 100).
int quick_check(sqlite3* db, std::string* problems) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr);
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      const unsigned char* text = sqlite3_column_text(stmt, 0);
      const std::string row = text ? reinterpret_cast<const char*>(text) : "";
      if (row == "ok") continue;
      if (!problems->empty()) problems->append("; ");
      problems->append(row);
    }
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
  }
  sqlite3_finalize(stmt);
  return rc;
}

// Creates the file with mode 0600 if it is absent (SQLite would use 0644), and syncs the
// directory so the new entry survives a power loss. SQLite gives its -wal and -shm files the
// database file's mode.
Status create_private_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return Status::success();
    return make_error("cannot create " + path + ": " + std::strerror(errno) +
                      "; check that its directory exists and is writable by this user");
  }
  ::close(fd);
  const size_t slash = path.find_last_of('/');
  const std::string dir =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return Status::success();
}

// Brings the schema from `version` to kSchemaVersion, one transaction per migration.
Status migrate(sqlite3* db, const std::string& path, int version) {
  for (int v = version; v < kSchemaVersion; ++v) {
    const std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                            "PRAGMA user_version = " + std::to_string(v + 1) + ";COMMIT;";
    const int rc = exec(db, sql.c_str());
    if (rc != SQLITE_OK) {
      const std::string message = sqlite3_errmsg(db);
      if (!sqlite3_get_autocommit(db)) exec(db, "ROLLBACK");
      return make_error("cannot upgrade " + path + " to schema version " + std::to_string(v + 1) +
                        ": " + message + advice_for(rc));
    }
  }
  return Status::success();
}

// Everything open() checks and sets up on a fresh connection.
Status prepare_connection(sqlite3* db, const std::string& path) {
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, static_cast<int>(SqliteStore::kBusyTimeout.ns() / 1000000));
  auto failure = [&](int rc, const std::string& doing) -> Status {
    const std::string message = sqlite3_errmsg(db);
    if (is_corruption(rc)) return corrupt_error(path, message);
    return make_error("cannot " + doing + " " + path + ": " + message + advice_for(rc));
  };

  std::string problems;
  int rc = quick_check(db, &problems);
  if (rc != SQLITE_OK) return failure(rc, "check");
  if (!problems.empty()) return corrupt_error(path, problems);
  if (sqlite3_db_readonly(db, "main") == 1) {
    return make_error("cannot write " + path + ": the file is read-only" +
                      advice_for(SQLITE_READONLY));
  }

  int version = 0;
  int app_id = 0;
  if ((rc = query_int(db, "PRAGMA user_version", &version)) != SQLITE_OK ||
      (rc = query_int(db, "PRAGMA application_id", &app_id)) != SQLITE_OK) {
    return failure(rc, "read");
  }
  if (app_id != 0 && app_id != kApplicationId) {
    return make_error(path +
                      " is not a warren store (it belongs to another program); "
                      "point warren at another file");
  }
  if (version > kSchemaVersion) {
    return make_error(path + " has schema version " + std::to_string(version) +
                      ", newer than this warren understands (" + std::to_string(kSchemaVersion) +
                      "); run the newer warren that wrote it, or restore a backup");
  }
  if (version == 0) {
    int tables = 0;
    if ((rc = query_int(db, "SELECT count(*) FROM sqlite_master", &tables)) != SQLITE_OK) {
      return failure(rc, "read");
    }
    if (tables > 0) {
      return make_error(path +
                        " is not a warren store (it holds other tables); "
                        "point warren at another file");
    }
  }

  // WAL: readers never block the writer and a commit is one append. synchronous=FULL: the WAL
  // is fsynced at every commit, so an acknowledged commit survives a crash or power loss.
  rc = exec(db, "PRAGMA journal_mode=WAL");
  if (rc != SQLITE_OK) return failure(rc, "open");
  rc = exec(db, "PRAGMA synchronous=FULL");
  if (rc != SQLITE_OK) return failure(rc, "open");
  return migrate(db, path, version);
}

}  // namespace

int SqliteStore::schema_version() {
  return kSchemaVersion;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(Clock& clock, const std::string& path) {
  Status created = create_private_file(path);
  if (!created.ok()) return created.error();

  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return make_error("cannot open " + path + ": " + message + advice_for(rc));
  }
  Status ready = prepare_connection(db, path);
  if (!ready.ok()) {
    sqlite3_close_v2(db);
    return ready.error();
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(clock, path, db));
  Status prepared = store->prepare_statements();
  if (!prepared.ok()) return prepared.error();
  return store;
}

SqliteStore::SqliteStore(Clock& clock, std::string path, sqlite3* db)
    : clock_(clock), path_(std::move(path)), db_(db) {}

SqliteStore::~SqliteStore() {
  *alive_ = false;
  finalize_statements();
  sqlite3_close_v2(db_);
}

Status SqliteStore::prepare_statements() {
  const char* put_sql = "INSERT OR REPLACE INTO records(tbl, key, value) VALUES(?1, ?2, ?3)";
  const char* delete_sql = "DELETE FROM records WHERE tbl = ?1 AND key = ?2";
  if (sqlite3_prepare_v3(db_, put_sql, -1, SQLITE_PREPARE_PERSISTENT, &put_, nullptr) !=
          SQLITE_OK ||
      sqlite3_prepare_v3(db_, delete_sql, -1, SQLITE_PREPARE_PERSISTENT, &delete_, nullptr) !=
          SQLITE_OK) {
    return make_error("cannot open " + path_ + ": " + sqlite3_errmsg(db_));
  }
  return Status::success();
}

void SqliteStore::finalize_statements() {
  sqlite3_finalize(put_);
  sqlite3_finalize(delete_);
  put_ = nullptr;
  delete_ = nullptr;
}

Result<std::vector<StoreRecord>> SqliteStore::load_all() {
  // BINARY collation compares bytes, the same order as std::string: (table, key) ascending.
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, "SELECT tbl, key, value FROM records ORDER BY tbl, key", -1,
                              &stmt, nullptr);
  std::vector<StoreRecord> out;
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      StoreRecord record;
      auto text = [&](int column) {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
        return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt, column)))
                 : std::string();
      };
      record.table = text(0);
      record.key = text(1);
      const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 2));
      if (blob) record.value.assign(blob, blob + sqlite3_column_bytes(stmt, 2));
      out.push_back(std::move(record));
    }
  }
  const std::string message = sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  if (rc != SQLITE_DONE) {
    if (is_corruption(rc)) return corrupt_error(path_, message);
    return make_error("cannot read " + path_ + ": " + message + advice_for(rc));
  }
  return out;
}

Status SqliteStore::apply(const StoreBatch& batch) {
  if (batch.empty()) return Status::success();
  static const uint8_t kEmpty = 0;  // a non-null pointer binds an empty blob rather than NULL
  int rc = exec(db_, "BEGIN IMMEDIATE");
  for (size_t i = 0; rc == SQLITE_OK && i < batch.puts.size(); ++i) {
    const StoreRecord& r = batch.puts[i];
    sqlite3_bind_text(put_, 1, r.table.data(), static_cast<int>(r.table.size()), SQLITE_STATIC);
    sqlite3_bind_text(put_, 2, r.key.data(), static_cast<int>(r.key.size()), SQLITE_STATIC);
    sqlite3_bind_blob(put_, 3, r.value.empty() ? &kEmpty : r.value.data(),
                      static_cast<int>(r.value.size()), SQLITE_STATIC);
    rc = sqlite3_step(put_);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    sqlite3_reset(put_);
    sqlite3_clear_bindings(put_);
  }
  for (size_t i = 0; rc == SQLITE_OK && i < batch.deletes.size(); ++i) {
    const auto& [table, key] = batch.deletes[i];
    sqlite3_bind_text(delete_, 1, table.data(), static_cast<int>(table.size()), SQLITE_STATIC);
    sqlite3_bind_text(delete_, 2, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
    rc = sqlite3_step(delete_);
    if (rc == SQLITE_DONE) rc = SQLITE_OK;
    sqlite3_reset(delete_);
    sqlite3_clear_bindings(delete_);
  }
  if (rc == SQLITE_OK) rc = exec(db_, "COMMIT");
  if (rc == SQLITE_OK) return Status::success();

  const std::string message = sqlite3_errmsg(db_);
  // A failed COMMIT may leave the transaction open; roll it back so nothing of it applies.
  if (!sqlite3_get_autocommit(db_)) exec(db_, "ROLLBACK");
  if (is_corruption(rc)) return corrupt_error(path_, message);
  return make_error("cannot store a change in " + path_ + ": " + message + advice_for(rc) +
                    " (nothing of this change was stored)");
}

void SqliteStore::commit(StoreBatch batch, Done on_done) {
  Status status = apply(batch);
  clock_.schedule_after(Duration::zero(),
                        [alive = alive_, status = std::move(status), done = std::move(on_done)] {
                          if (*alive && done) done(status);
                        });
}

Status SqliteStore::execute_for_testing(std::string_view sql) {
  const int rc = exec(db_, std::string(sql).c_str());
  if (rc != SQLITE_OK) return make_error(sqlite3_errmsg(db_));
  return Status::success();
}

}  // namespace warren
