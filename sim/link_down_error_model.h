// An ns-3 ErrorModel that loses every packet and counts them: installed as the receive error
// model of both devices of a link while the link is down (SimNetwork::SetLinkUp).
#pragma once

#include <cstdint>

#include <ns3/error-model.h>

namespace warren::sim {

class LinkDownErrorModel : public ns3::ErrorModel {
 public:
  static ns3::TypeId GetTypeId();
  LinkDownErrorModel();
  uint64_t GetDropped() const { return dropped_; }

 private:
  bool DoCorrupt(ns3::Ptr<ns3::Packet> packet) override;
  void DoReset() override;

  uint64_t dropped_ = 0;
};

}  // namespace warren::sim
