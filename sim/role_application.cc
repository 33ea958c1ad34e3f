#include "sim/role_application.h"

#include "sim/node_teardown.h"

#include <ns3/boolean.h>
#include <ns3/log.h>
#include <ns3/node.h>
#include <ns3/string.h>
#include <ns3/trace-source-accessor.h>

namespace warren::sim {

NS_LOG_COMPONENT_DEFINE("WarrenRoleApplication");
NS_OBJECT_ENSURE_REGISTERED(RoleApplication);

ns3::TypeId RoleApplication::GetTypeId() {
  static ns3::TypeId tid =
      ns3::TypeId("warren::sim::RoleApplication")
          .SetParent<ns3::Application>()
          .SetGroupName("Warren")
          .AddConstructor<RoleApplication>()
          .AddAttribute("Name", "The component name the role's log lines carry.",
                        ns3::StringValue(""), ns3::MakeStringAccessor(&RoleApplication::name_),
                        ns3::MakeStringChecker())
          .AddAttribute("AutoStart",
                        "Whether the Application start/stop times start and stop the role; "
                        "false leaves it to Start()/Stop() (scenario events).",
                        ns3::BooleanValue(true),
                        ns3::MakeBooleanAccessor(&RoleApplication::auto_start_),
                        ns3::MakeBooleanChecker())
          .AddTraceSource("RoleStart", "The role was built (argument: starts so far).",
                          ns3::MakeTraceSourceAccessor(&RoleApplication::start_trace_),
                          "warren::sim::RoleApplication::StartStopTracedCallback")
          .AddTraceSource("RoleStop", "The role was destroyed (argument: starts so far).",
                          ns3::MakeTraceSourceAccessor(&RoleApplication::stop_trace_),
                          "warren::sim::RoleApplication::StartStopTracedCallback");
  return tid;
}

RoleApplication::RoleApplication() = default;

RoleApplication::~RoleApplication() {
  // DoDispose normally ran already; this covers an application never added to a node.
  role_.reset();
}

void RoleApplication::SetFactory(Factory factory) {
  factory_ = std::move(factory);
}

void RoleApplication::SetRng(const SeededRng& rng) {
  rng_ = rng;
}

void RoleApplication::SetLogSink(LogSink* sink, LogLevel min_level) {
  sink_ = sink;
  min_level_ = min_level;
}

void RoleApplication::EnsureEnv() {
  if (env_) return;
  NS_ABORT_MSG_IF(GetNode() == nullptr, "RoleApplication: add it to a node before starting it");
  NS_ABORT_MSG_IF(!rng_, "RoleApplication: SetRng before starting it");
  clock_ = std::make_unique<Ns3Clock>(GetNode()->GetId());
  network_ = std::make_unique<Ns3Network>(GetNode());
  std::string component = name_.empty() ? "node" + std::to_string(GetNode()->GetId()) : name_;
  env_ = std::make_unique<Env>(
      Env{*clock_, *network_, *rng_, Logger(sink_, clock_.get(), component, min_level_)});
}

bool RoleApplication::Start() {
  if (role_) return true;
  NS_ABORT_MSG_IF(!factory_, "RoleApplication: SetFactory before starting it");
  EnsureEnv();
  ++starts_;
  role_ = factory_(*env_);
  if (!role_) {
    env_->log.error("role could not be built; it stays stopped");
    clock_->CancelAll();
    return false;
  }
  start_trace_(starts_);
  return true;
}

void RoleApplication::Stop() {
  if (!role_) return;
  // Destroy before cancelling: the role's destructor may still cancel its own timers.
  std::shared_ptr<void> role = std::move(role_);
  role.reset();
  clock_->CancelAll();
  stop_trace_(starts_);
}

void RoleApplication::StartApplication() {
  if (auto_start_) Start();
}

void RoleApplication::StopApplication() {
  if (auto_start_) Stop();
}

void RoleApplication::DoDispose() {
  NodeTeardownScope teardown;  // the node's stack may be disposed already
  Stop();
  env_.reset();
  network_.reset();
  clock_.reset();
  factory_ = nullptr;
  ns3::Application::DoDispose();
}

}  // namespace warren::sim
