// libFuzzer target: any bytes as a stored record (a corrupt database) must decode to a value or
// an error, never a crash. What decodes must encode back to a record that decodes to the same
// encoding (so a record the server rewrites is never worse than the one it read).
//
// Input: byte 0 selects the record kind; the rest is the value. decode_store also sees the
// value under every table, next to a valid user record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "nodes/control/store_records.h"

namespace {

using namespace warren;
using namespace warren::control;

template <typename T, typename Decode, typename Encode>
void round_trip(const std::string& key, ByteView value, Decode decode, Encode encode) {
  Result<T> first = decode(key, value);
  if (!first) return;
  StoreRecord again = encode(*first);
  Result<T> second = decode(again.key, ByteView(again.value));
  if (!second) std::abort();
  if (encode(*second).value != again.value) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  ByteView value(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      round_trip<User>("1", value, decode_user, user_record);
      break;
    case 1:
      round_trip<AuthKey>("1", value, decode_auth_key, auth_key_record);
      break;
    case 2:
      round_trip<Node>("1", value, decode_node, node_record);
      break;
    case 3:
      round_trip<IdCounters>(
          "", value, [](const std::string&, ByteView v) { return decode_counters(v); },
          counters_record);
      break;
    case 4:
      round_trip<AllocatorCursors>(
          "", value, [](const std::string&, ByteView v) { return decode_allocator(v); },
          allocator_record);
      break;
    default:
      round_trip<std::string>(
          "", value, [](const std::string&, ByteView v) { return decode_policy(v); },
          policy_record);
      break;
  }
  std::vector<StoreRecord> records = {user_record(User{1, "alice", 0})};
  for (const char* table : {kUsersTable, kAuthKeysTable, kNodesTable}) {
    records.push_back(StoreRecord{table, "1", value.to_bytes()});
  }
  for (const char* key : {kCountersKey, kAllocatorKey, kPolicyKey}) {
    records.push_back(StoreRecord{kMetaTable, key, value.to_bytes()});
  }
  (void)decode_store(records);
  return 0;
}
