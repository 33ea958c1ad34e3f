#include "nodes/relay/mesh_links.h"

#include <utility>

namespace warren::relay {

MeshLinks::MeshLinks(Env& env, const PrivateKey& relay_key, const MeshKey& mesh_key,
                     std::vector<MeshPeerConfig> peers, Callbacks callbacks)
    : env_(env),
      log_(env.log.child("mesh")),
      relay_key_(relay_key),
      relay_public_(public_key(relay_key)),
      mesh_key_(mesh_key),
      callbacks_(std::move(callbacks)) {
  links_.reserve(peers.size());
  for (auto& peer : peers) {
    Link link;
    link.config = std::move(peer);
    links_.push_back(std::move(link));
  }
}

MeshLinks::~MeshLinks() {
  stop();
}

void MeshLinks::start() {
  for (uint32_t i = 0; i < links_.size(); ++i) {
    Link& link = links_[i];
    if (link.client || link.self) continue;
    if (link.config.key && *link.config.key == relay_public_) {
      link.self = true;
      log_.info("mesh peer " + link.config.endpoint.to_string() +
                " is this relay itself (same key); skipped");
      continue;
    }
    open(i);
  }
}

void MeshLinks::stop() {
  for (Link& link : links_) {
    link.client.reset();
    link.up = false;
  }
  table_.clear();
}

void MeshLinks::open(uint32_t index) {
  Link& link = links_[index];
  RelayClientOptions options;
  options.server = link.config.endpoint;
  options.host = link.config.host;
  options.key = relay_key_;
  options.server_key = link.config.key;
  options.mesh_key = mesh_key_;
  options.watch_conns = true;
  options.backoff_max = kMaxRetryInterval;

  RelayClient::Callbacks callbacks;
  callbacks.on_server_key = [this, index](const PublicKey& key) {
    Link& l = links_[index];
    if (key != relay_public_) return;
    l.self = true;
    log_.info("mesh peer " + l.config.endpoint.to_string() +
              " is this relay itself (GET /key returned our key); skipped");
    l.client.reset();  // allowed from its own callback; nothing of it runs afterwards
  };
  callbacks.on_connected = [this, index](const ServerHello&) {
    Link& l = links_[index];
    l.up = true;
    log_.info("mesh link to " + l.config.endpoint.to_string() + " is up");
  };
  callbacks.on_peer_present = [this, index](const PeerPresent& p) { on_present(index, p); };
  callbacks.on_peer_gone = [this, index](const PeerGone& g) { on_gone(index, g); };
  callbacks.on_error = [this, index](const RelayClientError& error) {
    Link& l = links_[index];
    const std::string what = "mesh link to " + l.config.endpoint.to_string() + ": " + error.message;
    if (error.will_retry) {
      log_.info(what + " (retrying)");
    } else {
      // Fatal: a wrong mesh key or a pinned key that does not match. The operator must fix
      // the configuration; retrying would only repeat the refusal.
      log_.error(what + "; this link stays down until the relay restarts");
    }
    on_down(index);
  };
  link.client = std::make_unique<RelayClient>(env_, std::move(options), std::move(callbacks));
  link.client->start();
}

void MeshLinks::on_present(uint32_t index, const PeerPresent& present) {
  auto it = table_.find(present.key);
  if (it != table_.end()) {
    it->second.link = index;  // the newest announcement wins; receivers stay (same node)
    return;
  }
  if (table_.size() >= kMaxForwardedKeys) {
    if (!table_full_logged_) {
      log_.warn("mesh forwarding table full (" + std::to_string(kMaxForwardedKeys) +
                " keys); ignoring further peer_present");
      table_full_logged_ = true;
    }
    return;
  }
  table_.emplace(present.key,
                 Forwarder{index, DestinationSet(RelayServer::kMaxTrackedDestinations)});
}

void MeshLinks::on_gone(uint32_t index, const PeerGone& gone) {
  auto it = table_.find(gone.key);
  if (it == table_.end() || it->second.link != index) return;
  std::vector<PublicKey> receivers = it->second.receivers.keys();
  table_.erase(it);
  if (callbacks_.on_peer_left) callbacks_.on_peer_left(gone.key, receivers);
}

void MeshLinks::on_down(uint32_t index) {
  Link& link = links_[index];
  const bool was_up = link.up;
  link.up = false;
  // Erasing only: the order of this walk reaches nothing observable.
  size_t removed = 0;
  for (auto it = table_.begin(); it != table_.end();) {
    if (it->second.link == index) {
      it = table_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  if (was_up) {
    log_.info("mesh link to " + link.config.endpoint.to_string() + " is down; forgot " +
              std::to_string(removed) + " routes through it");
  }
}

MeshLinks::Route MeshLinks::forward(const PublicKey& src, const PublicKey& dst, ByteView packet) {
  auto it = table_.find(dst);
  if (it == table_.end()) return Route::none;
  Link& link = links_[it->second.link];
  if (!link.client || !link.up) return Route::dropped;
  return link.client->forward_packet(src, dst, packet) ? Route::sent : Route::dropped;
}

void MeshLinks::note_delivery(const PublicKey& src, const PublicKey& receiver) {
  auto it = table_.find(src);
  if (it != table_.end()) it->second.receivers.insert(receiver);
}

size_t MeshLinks::links_up() const {
  size_t n = 0;
  for (const Link& link : links_) n += (link.client && link.up) ? 1 : 0;
  return n;
}

size_t MeshLinks::self_links() const {
  size_t n = 0;
  for (const Link& link : links_) n += link.self ? 1 : 0;
  return n;
}

}  // namespace warren::relay
