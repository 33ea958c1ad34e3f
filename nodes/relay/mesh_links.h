// A relay's outgoing links to the other relays of its region, and the forwarding table they
// feed. One RelayClient per configured peer connects with the mesh key and sends watch_conns;
// the peer then tells it who is connected there (peer_present / peer_gone), and this relay
// sends packets for those keys over that link as forward_packet (one hop: the peer delivers
// locally or drops).
//
// Forwarding table: key -> the link that last announced it. A peer_gone removes the entry only
// if it comes from that same link (a node moving between relays is announced by the new relay
// before or after the old one lets go; either order ends right). When a link drops, all its
// entries go at once (the peer's clients are unreachable through it until it is back and has
// flooded its list again); the RelayClient reconnects with backoff. A configured peer whose key
// is our own (pinned or fetched from GET /key) is this relay itself and is skipped.
//
// Each entry also remembers the local clients that received packets from that key (through
// note_delivery), so that when the peer relay says the key left, they can be told.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "nodes/common/relay_client.h"
#include "nodes/net/env.h"
#include "nodes/relay/destination_set.h"
#include "nodes/relay/key_hash.h"
#include "nodes/relay/relay_server.h"

namespace warren::relay {

class MeshLinks {
 public:
  // Keys announced by all peers together; a peer announcing more is misbehaving (a region's
  // relays together serve far fewer nodes), and further announcements are ignored.
  static constexpr size_t kMaxForwardedKeys = 1 << 20;
  // DERP's mesh clients retry every 5 s; ours back off from 1 s up to this.
  static constexpr Duration kMaxRetryInterval = Duration::seconds(5);

  struct Callbacks {
    // The peer relay that had `key` says it left. `receivers`: local clients that got packets
    // from it. The owner decides whether the key left the region (it may be local now).
    std::function<void(const PublicKey& key, const std::vector<PublicKey>& receivers)> on_peer_left;
  };

  // `relay_key` is this relay's static key (the mesh links' Noise key).
  MeshLinks(Env& env, const PrivateKey& relay_key, const MeshKey& mesh_key,
            std::vector<MeshPeerConfig> peers, Callbacks callbacks);
  ~MeshLinks();
  MeshLinks(const MeshLinks&) = delete;
  MeshLinks& operator=(const MeshLinks&) = delete;

  void start();
  void stop();  // closes every link, forgets the table

  enum class Route { none, sent, dropped };
  // Sends forward_packet over the link that has `dst`: none (no link has it), sent, or dropped
  // (the link refused it: down, queue, rate).
  Route forward(const PublicKey& src, const PublicKey& dst, ByteView packet);
  bool has_route(const PublicKey& key) const { return table_.count(key) != 0; }
  // A forwarded packet from `src` was delivered to the local client `receiver`.
  void note_delivery(const PublicKey& src, const PublicKey& receiver);

  size_t links_up() const;
  size_t links_configured() const { return links_.size(); }
  size_t self_links() const;  // peers that turned out to be this relay
  size_t routes() const { return table_.size(); }

 private:
  struct Link {
    MeshPeerConfig config;
    std::unique_ptr<RelayClient> client;
    bool up = false;
    bool self = false;
  };
  struct Forwarder {
    uint32_t link = 0;
    DestinationSet receivers{RelayServer::kMaxTrackedDestinations};
  };

  void open(uint32_t index);
  void on_present(uint32_t index, const PeerPresent& present);
  void on_gone(uint32_t index, const PeerGone& gone);
  void on_down(uint32_t index);

  Env& env_;
  Logger log_;
  PrivateKey relay_key_;
  PublicKey relay_public_;
  MeshKey mesh_key_;
  Callbacks callbacks_;
  std::vector<Link> links_;
  std::unordered_map<PublicKey, Forwarder, PublicKeyHash> table_;
  bool table_full_logged_ = false;
};

}  // namespace warren::relay
