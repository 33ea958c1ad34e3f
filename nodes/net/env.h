// Everything a protocol object may use to act on the world, handed in at construction.
// All references must outlive the object.
#pragma once

#include "nodes/net/clock.h"
#include "nodes/net/logger.h"
#include "nodes/net/network.h"
#include "nodes/net/rng.h"

namespace warren {

struct Env {
  Clock& clock;
  Network& network;
  Rng& rng;
  Logger log;
};

}  // namespace warren
