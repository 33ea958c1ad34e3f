#include "sim/node_teardown.h"

namespace warren::sim {

namespace {
int g_teardown_depth = 0;  // scopes nest when disposing one object disposes another
}  // namespace

bool InNodeTeardown() {
  return g_teardown_depth > 0;
}

NodeTeardownScope::NodeTeardownScope() {
  ++g_teardown_depth;
}

NodeTeardownScope::~NodeTeardownScope() {
  --g_teardown_depth;
}

}  // namespace warren::sim
