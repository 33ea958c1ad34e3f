// The relay's link to the control server: a secure channel ("warren-control/1", the relay's
// own key as the Noise static key; the control server admits it only if its relay map lists
// that key), relay_subscribe, then relay_keys messages applied to an Admission.
//
// The control server's key is pinned from the config, or fetched from GET /key on first
// contact (reported through on_server_key so the caller can keep it). The channel is
// re-opened after a failure with a bounded exponential backoff and jitter (env.rng); while it
// is down the last set stays in force (nodes already admitted keep working, which is what an
// operator wants when the control server restarts), and a fresh full set replaces it on
// reconnect. The control server sends keepalives every 50 s + up to 9 s; nothing heard for
// `watchdog` counts as a failure. A refusal (this relay's key is not in the relay map) is
// reported with will_retry = true too: the operator may be fixing the map right now, so the
// feed keeps trying at the maximum backoff.
//
// Lifetime: destroying the feed closes the channel; no callback runs afterwards.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "nodes/common/x25519.h"
#include "nodes/net/env.h"
#include "nodes/relay/admission.h"

namespace warren::relay {

struct AdmissionFeedOptions {
  Endpoint server;  // the control server's port
  std::string host;
  PrivateKey relay_key;
  std::optional<PublicKey> server_key;
  Duration watchdog = Duration::seconds(120);
  Duration backoff_initial = Duration::seconds(1);
  Duration backoff_max = Duration::seconds(30);
};

struct AdmissionFeedCounters {
  uint64_t connects = 0;
  uint64_t full_sets = 0;
  uint64_t deltas = 0;
  uint64_t keepalives = 0;
  uint64_t errors = 0;  // failures of any kind (each followed by a retry)
};

class AdmissionFeed {
 public:
  struct Callbacks {
    std::function<void(const PublicKey& key)> on_server_key;
    std::function<void(const std::string& message)> on_error;  // always retried
    std::function<void()> on_full_set;                         // each time one is applied
  };
  // `admission` must outlive the feed; the feed switches it to Mode::waiting.
  AdmissionFeed(Env& env, AdmissionFeedOptions options, Admission& admission,
                Callbacks callbacks = {});
  ~AdmissionFeed();
  AdmissionFeed(const AdmissionFeed&) = delete;
  AdmissionFeed& operator=(const AdmissionFeed&) = delete;

  void start();
  void stop();
  bool subscribed() const;  // the channel is up and a full set has arrived on it
  const AdmissionFeedCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warren::relay
