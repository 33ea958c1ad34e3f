#include "nodes/net/memory_store.h"

#include <utility>

namespace warren {

MemoryStore::MemoryStore(Clock& clock, std::shared_ptr<MemoryStoreData> data)
    : clock_(clock), data_(std::move(data)), alive_(std::make_shared<bool>(true)) {}

// Pending callbacks of a destroyed store never run: their owner is gone with it. The batches
// they acknowledge were applied already (in commit()), as a disk write outlives its process.
MemoryStore::~MemoryStore() {
  *alive_ = false;
}

Result<std::vector<StoreRecord>> MemoryStore::load_all() {
  std::vector<StoreRecord> out;
  out.reserve(data_->records.size());
  for (const auto& [key, value] : data_->records) {
    out.push_back(StoreRecord{key.first, key.second, value});
  }
  return out;
}

void MemoryStore::commit(StoreBatch batch, Done on_done) {
  Status status;
  if (data_->fail_next_commits > 0) {
    --data_->fail_next_commits;
    status = make_error("simulated disk full: the batch was not stored");
  } else {
    // Applied now, so a later load_all() or commit sees it; acknowledged on the next turn.
    for (auto& record : batch.puts) {
      data_->records[{std::move(record.table), std::move(record.key)}] = std::move(record.value);
    }
    for (const auto& [table, key] : batch.deletes) data_->records.erase({table, key});
    ++data_->commits;
  }
  // schedule_after(0) keeps scheduling order, so callbacks run in commit order.
  clock_.schedule_after(Duration::zero(), [alive = alive_, status, done = std::move(on_done)] {
    if (*alive && done) done(status);
  });
}

}  // namespace warren
