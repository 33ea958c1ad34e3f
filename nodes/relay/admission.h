// Which node keys a relay may serve: the set the control server streams to relays
// (relay_keys: a full set, then added/removed deltas with a reason per removal). Pure data; the
// AdmissionFeed fills it from the control server, tests fill it directly.
//
// Verdicts: a key in the set is admitted. Otherwise the refusal says why, as precisely as the
// relay knows: removed by the control server (the control server's reason, e.g. "node key
// expired", remembered for the last kMaxRememberedRemovals removals), never known, no
// admission list received yet (not_ready: retry), or no control server configured at all.
//
// Removal listeners run synchronously inside apply(), once per removed key, after the set has
// changed; the relay disconnects that key's connections from there.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nodes/common/control_messages.h"
#include "nodes/common/relay_frame.h"
#include "nodes/common/x25519.h"
#include "nodes/relay/key_hash.h"

namespace warren::relay {

struct AdmissionVerdict {
  bool admitted = false;
  RefusalReason reason = RefusalReason::unknown_key;  // when not admitted
  std::string text;                                   // when not admitted: for the client
};

class Admission {
 public:
  // Removal reasons kept for better refusals; older ones fall back to "not known".
  static constexpr size_t kMaxRememberedRemovals = 65536;
  enum class Mode {
    no_control,  // the relay has no control server: it admits no node (STUN only)
    waiting,     // a control server is configured, no full set received yet
    live,        // a full set has arrived (kept across control reconnects)
  };
  using RemovedListener = std::function<void(const PublicKey& key, const std::string& reason)>;

  explicit Admission(Mode mode = Mode::no_control);  // live is taken as waiting

  AdmissionVerdict check(const PublicKey& key) const;
  // Applies a control message. Errors (the set is left unchanged): a delta before any full
  // set, a sequence number that does not follow the last one. The feed reconnects on error
  // and gets a fresh full set, whose removals relative to the current set are reported too.
  Status apply(const control::RelayKeysMessage& message);
  void set_removed_listener(RemovedListener listener);

  Mode mode() const { return mode_; }
  // no_control/waiting; live comes with the first full set. Leaving live drops the set (each
  // key reported to the removal listener) and the sequence.
  void set_mode(Mode mode);
  size_t size() const { return keys_.size(); }
  uint64_t last_seq() const { return last_seq_; }

 private:
  struct Removal {
    std::string reason;
    uint64_t generation = 0;  // matches its entry in removal_order_
  };
  void remember_removal(const PublicKey& key, const std::string& reason);
  void forget_removal(const PublicKey& key);  // the key is admitted again
  // Calls the listener for each key (ascending) that is still out of the set.
  void notify_removed(const std::vector<PublicKey>& gone);

  Mode mode_;
  std::unordered_set<PublicKey, PublicKeyHash> keys_;
  uint64_t last_seq_ = 0;
  // Only looked up, never iterated. Never larger than removal_order_, which is bounded by
  // kMaxRememberedRemovals (oldest first; superseded entries are skipped when they expire).
  std::unordered_map<PublicKey, Removal, PublicKeyHash> removed_;
  std::deque<std::pair<PublicKey, uint64_t>> removal_order_;
  uint64_t removal_generation_ = 0;
  RemovedListener removed_listener_;
};

}  // namespace warren::relay
