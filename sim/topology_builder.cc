#include "sim/topology_builder.h"

#include <algorithm>

#include <ns3/boolean.h>
#include <ns3/config.h>
#include <ns3/data-rate.h>
#include <ns3/double.h>
#include <ns3/drop-tail-queue.h>
#include <ns3/internet-stack-helper.h>
#include <ns3/ipv4-static-routing-helper.h>
#include <ns3/ipv4.h>
#include <ns3/ipv6-static-routing-helper.h>
#include <ns3/ipv6.h>
#include <ns3/nstime.h>
#include <ns3/pcap-file-wrapper.h>
#include <ns3/point-to-point-helper.h>
#include <ns3/pointer.h>
#include <ns3/queue-size.h>
#include <ns3/rng-seed-manager.h>
#include <ns3/simple-ref-count.h>
#include <ns3/simulator.h>
#include <ns3/string.h>
#include <ns3/trace-helper.h>
#include <ns3/uinteger.h>

#include "nat-models/ns3/ns3_address.h"

namespace warren::sim {

namespace {

// ns-3's seed stays fixed; the scenario seed picks the run (independent replications, the
// ns-3 way).
constexpr uint32_t kNs3Seed = 1;

bool HasFamily(const topo::Node& n, Family f) {
  return std::find(n.families.begin(), n.families.end(), f) != n.families.end();
}

// The links a node sits on, in its own order (Node::links) or, if the topology left that
// empty, in link order.
std::vector<int> LinksOf(const topo::Topology& t, int index) {
  const topo::Node& n = t.nodes[static_cast<size_t>(index)];
  if (!n.links.empty()) return n.links;
  std::vector<int> out;
  for (size_t l = 0; l < t.links.size(); ++l) {
    if (t.links[l].a == index || t.links[l].b == index) out.push_back(static_cast<int>(l));
  }
  return out;
}

Status Validate(const topo::Topology& t) {
  const int node_count = static_cast<int>(t.nodes.size());
  for (size_t l = 0; l < t.links.size(); ++l) {
    const topo::Link& link = t.links[l];
    if (link.a < 0 || link.a >= node_count || link.b < 0 || link.b >= node_count ||
        link.a == link.b) {
      return make_error("link " + std::to_string(l) + " joins nodes " + std::to_string(link.a) +
                        " and " + std::to_string(link.b) +
                        ": both must be distinct existing nodes");
    }
    if (link.params.rate_bps == 0 || link.params.queue_packets == 0 || link.params.loss < 0.0 ||
        link.params.loss >= 1.0 || link.params.delay < Duration::zero()) {
      return make_error("link " + std::to_string(l) +
                        ": rate and queue must be > 0, loss in [0, 1), delay >= 0");
    }
  }
  for (int i = 0; i < node_count; ++i) {
    const topo::Node& n = t.nodes[static_cast<size_t>(i)];
    const std::string who = "node \"" + n.name + "\"";
    const std::vector<int> links = LinksOf(t, i);
    for (int l : n.links) {
      if (l < 0 || l >= static_cast<int>(t.links.size()) ||
          (t.links[static_cast<size_t>(l)].a != i && t.links[static_cast<size_t>(l)].b != i)) {
        return make_error(who + " lists link " + std::to_string(l) + ", which it is not on");
      }
    }
    for (const topo::Route& r : n.routes) {
      if (std::find(links.begin(), links.end(), r.link) == links.end()) {
        return make_error(who + ": route to " + r.destination.to_string() + " uses link " +
                          std::to_string(r.link) + ", which the node is not on");
      }
      if (!HasFamily(n, r.destination.family())) {
        return make_error(who + ": route to " + r.destination.to_string() +
                          " but the node has no " + to_string(r.destination.family()));
      }
    }
    if (n.ipv4 && !n.ipv4->is_v4()) return make_error(who + ": ipv4 address is not IPv4");
    if (n.ipv6 && !n.ipv6->is_v6()) return make_error(who + ": ipv6 address is not IPv6");
    if (n.kind != topo::NodeKind::nat) continue;
    if (std::find(links.begin(), links.end(), n.outside_link) == links.end()) {
      return make_error(who + " is a NAT whose outside link " + std::to_string(n.outside_link) +
                        " is not one of its links");
    }
    if (n.nat && n.nat->external_addresses.empty() && !n.ipv4) {
      return make_error(who + " translates IPv4 but has no outside IPv4 address");
    }
  }
  return Status::success();
}

uint32_t Ipv4MaskBits(int length) {
  return length <= 0 ? 0u : (length >= 32 ? 0xffffffffu : ~0u << (32 - length));
}

// Adds a host's interfaces (one per link, in LinksOf order), addresses and routes.
void ConfigureStack(const topo::Topology& t, int index,
                    const std::map<int, ns3::Ptr<ns3::NetDevice>>& device_of_link,
                    ns3::Ptr<ns3::Node> node) {
  const topo::Node& n = t.nodes[static_cast<size_t>(index)];
  std::map<int, uint32_t> interface_of_link;
  ns3::Ptr<ns3::Ipv4> ipv4 = node->GetObject<ns3::Ipv4>();
  ns3::Ptr<ns3::Ipv6> ipv6 = node->GetObject<ns3::Ipv6>();
  if (ipv4) {
    for (int l : LinksOf(t, index)) {
      const uint32_t i = static_cast<uint32_t>(ipv4->AddInterface(device_of_link.at(l)));
      if (n.ipv4) {
        ipv4->AddAddress(i,
                         ns3::Ipv4InterfaceAddress(to_ns3_v4(*n.ipv4), ns3::Ipv4Mask(0xffffffffu)));
      }
      ipv4->SetUp(i);
      interface_of_link[l] = i;
    }
    ipv4->SetAttribute("IpForward", ns3::BooleanValue(false));  // hosts do not route
    auto routing = ns3::Ipv4StaticRoutingHelper().GetStaticRouting(ipv4);
    for (const topo::Route& r : n.routes) {
      if (!r.destination.network().is_v4()) continue;
      routing->AddNetworkRouteTo(to_ns3_v4(r.destination.network()),
                                 ns3::Ipv4Mask(Ipv4MaskBits(r.destination.length())),
                                 interface_of_link.at(r.link));
    }
  }
  if (ipv6) {
    interface_of_link.clear();
    for (int l : LinksOf(t, index)) {
      const uint32_t i = ipv6->AddInterface(device_of_link.at(l));
      if (n.ipv6) {
        ipv6->AddAddress(i, ns3::Ipv6InterfaceAddress(to_ns3_v6(*n.ipv6), ns3::Ipv6Prefix(128)));
      }
      ipv6->SetUp(i);
      interface_of_link[l] = i;
    }
    ipv6->SetAttribute("IpForward", ns3::BooleanValue(false));
    auto routing = ns3::Ipv6StaticRoutingHelper().GetStaticRouting(ipv6);
    for (const topo::Route& r : n.routes) {
      if (!r.destination.network().is_v6()) continue;
      routing->AddNetworkRouteTo(to_ns3_v6(r.destination.network()),
                                 ns3::Ipv6Prefix(static_cast<uint8_t>(r.destination.length())),
                                 interface_of_link.at(r.link));
    }
  }
}

}  // namespace

// Writes what one device sends and receives ("PromiscSniffer") to a pcap file it owns, so the
// file can be closed on demand rather than when ns-3 happens to release the device.
class SimNetwork::PcapTap : public ns3::SimpleRefCount<PcapTap> {
 public:
  explicit PcapTap(ns3::Ptr<ns3::PcapFileWrapper> file) : file_(std::move(file)) {}
  void Capture(ns3::Ptr<const ns3::Packet> packet) {
    if (file_) file_->Write(ns3::Simulator::Now(), packet);
  }
  void Close() {
    if (file_) file_->Close();
    file_ = nullptr;
  }

 private:
  ns3::Ptr<ns3::PcapFileWrapper> file_;
};

SimNetwork::SimNetwork(const topo::Topology& topology, uint64_t seed)
    : topology_(topology), seed_(seed) {}

SimNetwork::~SimNetwork() {
  ClosePcap();
}

ns3::Ptr<ns3::Node> SimNetwork::GetNode(int index) const {
  if (index < 0 || index >= static_cast<int>(nodes_.size())) return nullptr;
  return nodes_[static_cast<size_t>(index)];
}

ns3::Ptr<ns3::Node> SimNetwork::GetNode(std::string_view name) const {
  auto index = FindNode(name);
  return index ? GetNode(*index) : nullptr;
}

std::optional<int> SimNetwork::FindNode(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

ns3::Ptr<nat::NatMiddlebox> SimNetwork::GetMiddlebox(int index) const {
  if (index < 0 || index >= static_cast<int>(middleboxes_.size())) return nullptr;
  return middleboxes_[static_cast<size_t>(index)];
}

ns3::Ptr<nat::NatMiddlebox> SimNetwork::GetNat(int index) const {
  if (index < 0 || index >= static_cast<int>(topology_.nodes.size()) ||
      topology_.nodes[static_cast<size_t>(index)].kind != topo::NodeKind::nat) {
    return nullptr;
  }
  return GetMiddlebox(index);
}

ns3::Ptr<ns3::PointToPointNetDevice> SimNetwork::GetDevice(int link, int node) const {
  if (link < 0 || link >= static_cast<int>(links_.size())) return nullptr;
  const topo::Link& l = topology_.links[static_cast<size_t>(link)];
  if (l.a == node) return links_[static_cast<size_t>(link)].devices[0];
  if (l.b == node) return links_[static_cast<size_t>(link)].devices[1];
  return nullptr;
}

std::optional<int> SimNetwork::FindLink(int a, int b) const {
  for (size_t l = 0; l < topology_.links.size(); ++l) {
    const topo::Link& link = topology_.links[l];
    if ((link.a == a && link.b == b) || (link.a == b && link.b == a)) return static_cast<int>(l);
  }
  return std::nullopt;
}

Status SimNetwork::SetLinkUp(int link, bool up) {
  if (link < 0 || link >= static_cast<int>(links_.size())) {
    return make_error("no link " + std::to_string(link) + " in topology \"" + topology_.name +
                      "\"");
  }
  LinkState& state = links_[static_cast<size_t>(link)];
  if (state.up == up) return Status::success();
  state.up = up;
  for (size_t side = 0; side < 2; ++side) {
    ns3::Ptr<ns3::ErrorModel> model =
        up ? ns3::Ptr<ns3::ErrorModel>(state.loss[side]) : ns3::Ptr<ns3::ErrorModel>(state.down);
    state.devices[side]->SetReceiveErrorModel(model);
  }
  return Status::success();
}

bool SimNetwork::IsLinkUp(int link) const {
  return link >= 0 && link < static_cast<int>(links_.size()) &&
         links_[static_cast<size_t>(link)].up;
}

uint64_t SimNetwork::GetLinkDownDrops(int link) const {
  if (link < 0 || link >= static_cast<int>(links_.size())) return 0;
  return links_[static_cast<size_t>(link)].down->GetDropped();
}

Status SimNetwork::FlushNat(int node) {
  ns3::Ptr<nat::NatMiddlebox> nat = GetNat(node);
  if (nat == nullptr) {
    return make_error("node " + std::to_string(node) + " is not a NAT; only NATs can be flushed");
  }
  nat->Flush();
  return Status::success();
}

int64_t SimNetwork::AssignStreams(int64_t stream) {
  int64_t used = 0;
  for (LinkState& link : links_) {
    for (auto& loss : link.loss) {
      if (loss != nullptr) used += loss->AssignStreams(stream + used);
    }
  }
  return used;
}

std::string SimNetwork::PcapName(const std::string& prefix, int link, int side) const {
  const topo::Link& l = topology_.links[static_cast<size_t>(link)];
  const int self = side == 0 ? l.a : l.b;
  const int peer = side == 0 ? l.b : l.a;
  std::string name = prefix + "-" + topology_.nodes[static_cast<size_t>(self)].name + "-" +
                     topology_.nodes[static_cast<size_t>(peer)].name;
  if (FindLink(l.a, l.b) != link) name += "-" + std::to_string(link);
  return name + ".pcap";
}

void SimNetwork::EnablePcap(const std::string& prefix, int link) {
  if (link < 0 || link >= static_cast<int>(links_.size())) return;
  ns3::PcapHelper helper;
  for (int side = 0; side < 2; ++side) {
    auto file =
        helper.CreateFile(PcapName(prefix, link, side), std::ios::out, ns3::PcapHelper::DLT_PPP);
    auto tap = ns3::Create<PcapTap>(file);
    links_[static_cast<size_t>(link)]
        .devices[static_cast<size_t>(side)]
        ->TraceConnectWithoutContext("PromiscSniffer", ns3::MakeCallback(&PcapTap::Capture, tap));
    pcap_taps_.push_back(tap);
  }
}

void SimNetwork::ClosePcap() {
  for (auto& tap : pcap_taps_) tap->Close();
}

void SimNetwork::EnablePcapAll(const std::string& prefix) {
  for (size_t l = 0; l < links_.size(); ++l) EnablePcap(prefix, static_cast<int>(l));
}

SeededRng SimNetwork::RoleRng(int node, std::string_view role) const {
  return SeededRng(seed_, "node:" + topology_.nodes.at(static_cast<size_t>(node)).name)
      .derive(role);
}

ns3::Ptr<RoleApplication> SimNetwork::InstallRole(int node, std::string_view role,
                                                  RoleApplication::Factory factory, LogSink* sink,
                                                  LogLevel min_level,
                                                  std::optional<Duration> start) {
  auto app = ns3::CreateObject<RoleApplication>();
  const std::string name = topology_.nodes.at(static_cast<size_t>(node)).name;
  app->SetAttribute("Name", ns3::StringValue(name + "/" + std::string(role)));
  app->SetAttribute("AutoStart", ns3::BooleanValue(start.has_value()));
  app->SetFactory(std::move(factory));
  app->SetRng(RoleRng(node, role));
  app->SetLogSink(sink, min_level);
  if (start) app->SetStartTime(ns3::NanoSeconds(start->ns()));
  GetNode(node)->AddApplication(app);
  return app;
}

Result<std::unique_ptr<SimNetwork>> TopologyBuilder::Build(const topo::Topology& topology,
                                                           uint64_t seed) {
  if (Status s = Validate(topology); !s.ok()) {
    return make_error("topology \"" + topology.name + "\": " + s.error().message);
  }
  ns3::RngSeedManager::SetSeed(kNs3Seed);
  ns3::RngSeedManager::SetRun(seed);
  // Without DAD, IPv6 addresses are preferred at once and hosts send no NS probes.
  ns3::Config::SetDefaultFailSafe("ns3::Icmpv6L4Protocol::DAD", ns3::BooleanValue(false));

  std::unique_ptr<SimNetwork> net(new SimNetwork(topology, seed));
  const size_t node_count = topology.nodes.size();
  for (size_t i = 0; i < node_count; ++i) {
    net->nodes_.push_back(ns3::CreateObject<ns3::Node>());
    net->by_name_.emplace(topology.nodes[i].name, static_cast<int>(i));
  }
  net->middleboxes_.resize(node_count);

  // Stacks before devices so every host's loopback is its interface 0.
  for (size_t i = 0; i < node_count; ++i) {
    const topo::Node& n = topology.nodes[i];
    if (n.kind != topo::NodeKind::host) continue;
    ns3::InternetStackHelper stack;
    stack.SetIpv4StackInstall(HasFamily(n, Family::ipv4));
    stack.SetIpv6StackInstall(HasFamily(n, Family::ipv6));
    stack.SetRoutingHelper(ns3::Ipv4StaticRoutingHelper());
    stack.SetRoutingHelper(ns3::Ipv6StaticRoutingHelper());
    stack.Install(net->nodes_[i]);
  }

  std::vector<std::map<int, ns3::Ptr<ns3::NetDevice>>> device_of_link(node_count);
  for (size_t l = 0; l < topology.links.size(); ++l) {
    const topo::Link& link = topology.links[l];
    ns3::PointToPointHelper p2p;
    p2p.SetDeviceAttribute("DataRate", ns3::DataRateValue(ns3::DataRate(link.params.rate_bps)));
    p2p.SetChannelAttribute("Delay", ns3::TimeValue(ns3::NanoSeconds(link.params.delay.ns())));
    p2p.SetQueue("ns3::DropTailQueue<Packet>", "MaxSize",
                 ns3::QueueSizeValue(
                     ns3::QueueSize(ns3::QueueSizeUnit::PACKETS, link.params.queue_packets)));
    ns3::NetDeviceContainer devices = p2p.Install(net->nodes_[static_cast<size_t>(link.a)],
                                                  net->nodes_[static_cast<size_t>(link.b)]);
    SimNetwork::LinkState state;
    state.down = ns3::CreateObject<LinkDownErrorModel>();
    for (uint32_t side = 0; side < 2; ++side) {
      auto device = ns3::DynamicCast<ns3::PointToPointNetDevice>(devices.Get(side));
      state.devices[side] = device;
      if (link.params.loss > 0) {
        auto loss = ns3::CreateObject<ns3::RateErrorModel>();
        loss->SetUnit(ns3::RateErrorModel::ERROR_UNIT_PACKET);
        loss->SetRate(link.params.loss);
        device->SetReceiveErrorModel(loss);
        state.loss[side] = loss;
      }
    }
    device_of_link[static_cast<size_t>(link.a)][static_cast<int>(l)] = state.devices[0];
    device_of_link[static_cast<size_t>(link.b)][static_cast<int>(l)] = state.devices[1];
    net->links_.push_back(state);
  }
  net->AssignStreams(0);

  for (size_t i = 0; i < node_count; ++i) {
    const topo::Node& n = topology.nodes[i];
    const int index = static_cast<int>(i);
    if (n.kind == topo::NodeKind::host) {
      ConfigureStack(topology, index, device_of_link[i], net->nodes_[i]);
      continue;
    }
    // NATs and routers: stack-less forwarding (see nat_middlebox.h for why routers too).
    nat::NatMiddlebox::Config config;
    config.name = n.name;
    ns3::Ptr<ns3::NetDevice> outside;
    if (n.kind == topo::NodeKind::nat) {
      config.nat = n.nat;
      if (config.nat && config.nat->external_addresses.empty()) {
        config.nat->external_addresses.push_back(*n.ipv4);
      }
      config.ipv6_firewall = n.ipv6_firewall;
      outside = device_of_link[i].at(n.outside_link);
    }
    auto middlebox = ns3::CreateObject<nat::NatMiddlebox>();
    middlebox->Install(net->nodes_[i], outside, std::move(config),
                       SeededRng(seed, "nat:" + n.name));
    for (const topo::Route& r : n.routes) {
      middlebox->AddRoute(r.destination, device_of_link[i].at(r.link));
    }
    net->middleboxes_[i] = middlebox;
  }
  return net;
}

}  // namespace warren::sim
