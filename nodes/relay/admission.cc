#include "nodes/relay/admission.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace warren::relay {
namespace {

// A full set that drops a key says nothing about why (the control server only lists what is
// in force); this is what the relay and the node are told then.
constexpr const char* kDroppedByFullSet = "no longer listed by the control server";
constexpr const char* kDroppedByReset = "the relay's admission list was reset";

std::string seq_text(uint64_t seq) {
  return std::to_string(seq);
}

}  // namespace

Admission::Admission(Mode mode) : mode_(mode == Mode::live ? Mode::waiting : mode) {}

AdmissionVerdict Admission::check(const PublicKey& key) const {
  AdmissionVerdict v;
  switch (mode_) {
    case Mode::no_control:
      v.reason = RefusalReason::unknown_key;
      v.text = "this relay has no control server configured and serves no node (STUN only)";
      return v;
    case Mode::waiting:
      v.reason = RefusalReason::not_ready;
      v.text =
          "this relay has not received its list of nodes from the control server yet; "
          "retry shortly";
      return v;
    case Mode::live:
      break;
  }
  if (keys_.count(key)) {
    v.admitted = true;
    return v;
  }
  if (auto it = removed_.find(key); it != removed_.end()) {
    v.reason = RefusalReason::removed_key;
    v.text = it->second.reason;
    return v;
  }
  v.reason = RefusalReason::unknown_key;
  v.text = "node key not known to the control server; register the node first";
  return v;
}

Status Admission::apply(const control::RelayKeysMessage& message) {
  if (mode_ == Mode::no_control) {
    return make_error("relay_keys received, but this relay has no control server configured");
  }
  std::vector<PublicKey> gone;  // removed from the set by this message, for the listener
  if (message.full) {
    // A full set restarts the sequence (a new channel starts at 1; a server reload mid-stream
    // continues it): any seq is accepted.
    std::unordered_set<PublicKey, PublicKeyHash> next(message.keys.begin(), message.keys.end());
    for (const PublicKey& key : keys_) {
      if (!next.count(key)) gone.push_back(key);
    }
    // Hash order must not reach the listener (the relay's disconnects are output).
    std::sort(gone.begin(), gone.end());
    keys_ = std::move(next);
    for (const PublicKey& key : gone) remember_removal(key, kDroppedByFullSet);
    for (const PublicKey& key : message.keys) forget_removal(key);
    mode_ = Mode::live;
  } else {
    if (mode_ != Mode::live) {
      return make_error("relay_keys delta (seq " + seq_text(message.seq) +
                        ") before any full key set; reconnect to the control server");
    }
    if (message.seq != last_seq_ + 1) {
      return make_error("relay_keys seq " + seq_text(message.seq) + " does not follow " +
                        seq_text(last_seq_) +
                        " (a message was lost); reconnect for a fresh full set");
    }
    // Removals first, then additions: a key in both lists ends up admitted.
    for (const control::RemovedRelayKey& r : message.removed) {
      if (keys_.erase(r.key)) gone.push_back(r.key);
      remember_removal(r.key, r.reason);
    }
    for (const PublicKey& key : message.added) {
      keys_.insert(key);
      forget_removal(key);
    }
  }
  last_seq_ = message.seq;
  notify_removed(gone);
  return Status::success();
}

void Admission::set_removed_listener(RemovedListener listener) {
  removed_listener_ = std::move(listener);
}

void Admission::set_mode(Mode mode) {
  if (mode == Mode::live || mode == mode_) return;  // live comes only with a full set
  const bool was_live = mode_ == Mode::live;
  mode_ = mode;
  last_seq_ = 0;
  if (!was_live) return;
  // Leaving live drops the set: every admitted node must go.
  std::vector<PublicKey> gone(keys_.begin(), keys_.end());
  std::sort(gone.begin(), gone.end());
  keys_.clear();
  for (const PublicKey& key : gone) remember_removal(key, kDroppedByReset);
  notify_removed(gone);
}

void Admission::remember_removal(const PublicKey& key, const std::string& reason) {
  const uint64_t generation = ++removal_generation_;
  removed_[key] = Removal{reason, generation};
  removal_order_.emplace_back(key, generation);
  // Entries superseded or forgotten since stay in the queue until they reach its front; the
  // queue is bounded all the same, and the map never holds more than the queue.
  while (removal_order_.size() > kMaxRememberedRemovals) {
    const auto& [old_key, old_generation] = removal_order_.front();
    auto it = removed_.find(old_key);
    if (it != removed_.end() && it->second.generation == old_generation) removed_.erase(it);
    removal_order_.pop_front();
  }
}

void Admission::forget_removal(const PublicKey& key) {
  removed_.erase(key);
}

void Admission::notify_removed(const std::vector<PublicKey>& gone) {
  if (!removed_listener_ || gone.empty()) return;
  // A copy: the listener may replace itself.
  const RemovedListener listener = removed_listener_;
  for (const PublicKey& key : gone) {
    // A listener may have changed the set (a later message applied from inside it): only keys
    // still out are reported, each with the reason in force now.
    if (keys_.count(key)) continue;
    auto it = removed_.find(key);
    const std::string reason = it != removed_.end() ? it->second.reason : kDroppedByFullSet;
    listener(key, reason);
  }
}

}  // namespace warren::relay
