#include "sim/link_down_error_model.h"

namespace warren::sim {

NS_OBJECT_ENSURE_REGISTERED(LinkDownErrorModel);

ns3::TypeId LinkDownErrorModel::GetTypeId() {
  static ns3::TypeId tid = ns3::TypeId("warren::sim::LinkDownErrorModel")
                               .SetParent<ns3::ErrorModel>()
                               .SetGroupName("Warren")
                               .AddConstructor<LinkDownErrorModel>();
  return tid;
}

LinkDownErrorModel::LinkDownErrorModel() = default;

bool LinkDownErrorModel::DoCorrupt(ns3::Ptr<ns3::Packet>) {
  ++dropped_;
  return true;
}

void LinkDownErrorModel::DoReset() {}

}  // namespace warren::sim
