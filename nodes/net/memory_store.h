// DurableStore in memory, for unit tests and simulation. The records live in a MemoryStoreData
// shared with whoever created it (the simulator keeps one per node), so a role that stops and
// restarts on a new MemoryStore over the same data finds everything it committed.
// Commits complete on the next clock turn (never inside commit()), like a real disk; tests can
// make the next commits fail to exercise error paths.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "nodes/net/clock.h"
#include "nodes/net/durable_store.h"

namespace warren {

struct MemoryStoreData {
  std::map<std::pair<std::string, std::string>, Bytes> records;
  uint64_t commits = 0;
  int fail_next_commits = 0;  // > 0: that many commits fail with "simulated disk full"
};

class MemoryStore final : public DurableStore {
 public:
  MemoryStore(Clock& clock, std::shared_ptr<MemoryStoreData> data);
  ~MemoryStore() override;
  Result<std::vector<StoreRecord>> load_all() override;
  void commit(StoreBatch batch, Done on_done) override;
  MemoryStoreData& data() { return *data_; }

 private:
  Clock& clock_;
  std::shared_ptr<MemoryStoreData> data_;
  std::shared_ptr<bool> alive_;
};

}  // namespace warren
