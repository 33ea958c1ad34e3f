// The only persistence protocol code sees: a transactional key-value store of small records.
// Implemented by nodes/real (SQLite, WAL, fsync on commit) and nodes/net/memory_store.h (tests
// and simulation, where the data outlives the role so a restarted role finds its state).
//
// - Records live in named tables ("users", "nodes", ...) under string keys; values are opaque
//   bytes (the control server writes versioned JSON). Control-plane state is small (10,000 nodes
//   are a few MB), so a role reads everything once with load_all() and keeps it in memory.
// - commit() applies a batch atomically: all of it or none. `on_done` runs later, never inside
//   commit(), with ok once the batch is durable (acknowledge a change to anyone only then), or
//   with an error (disk full, I/O error, store closed) in which case nothing of it applied.
//   Callbacks run in commit order. A store is used by one role on one thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "nodes/net/bytes.h"
#include "nodes/net/result.h"

namespace warren {

struct StoreRecord {
  std::string table;
  std::string key;
  Bytes value;
};

struct StoreBatch {
  std::vector<StoreRecord> puts;                              // insert or replace
  std::vector<std::pair<std::string, std::string>> deletes;   // (table, key); absent is fine
  bool empty() const { return puts.empty() && deletes.empty(); }
};

class DurableStore {
 public:
  using Done = std::function<void(const Status& status)>;
  virtual ~DurableStore() = default;
  // Every record, ordered by (table, key). Errors: unreadable or corrupt store.
  virtual Result<std::vector<StoreRecord>> load_all() = 0;
  virtual void commit(StoreBatch batch, Done on_done) = 0;
};

}  // namespace warren
