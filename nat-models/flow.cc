#include "nat-models/flow.h"

namespace warren::nat {

const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::tcp:
      return "tcp";
    case Protocol::udp:
      return "udp";
  }
  return "?";
}

}  // namespace warren::nat
