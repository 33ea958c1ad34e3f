#include "nat-models/tcp_connection.h"

namespace warren::nat {

void TcpConnection::observe(bool outbound, TcpFlags flags) {
  if (flags.rst) {
    bits_ |= kReset;
    return;
  }
  if (flags.syn) {
    // A SYN after the connection closed or was reset starts a new connection on the same
    // 5-tuple (a reused port); a SYN otherwise is the handshake or its retransmission.
    if (bits_ & (kFinOut | kFinIn | kReset)) bits_ = 0;
    bits_ |= outbound ? kSynOut : kSynIn;
    return;
  }
  if (flags.fin) bits_ |= outbound ? kFinOut : kFinIn;
  // The ACK that completes a handshake is the first non-SYN ACK after SYNs both ways; the
  // SYN-ACK itself does not count, so simultaneous open completes the same way.
  if (flags.ack && (bits_ & kSynOut) && (bits_ & kSynIn)) bits_ |= kHandshakeDone;
}

bool TcpConnection::established() const {
  if (!(bits_ & kHandshakeDone)) return false;
  if (bits_ & kReset) return false;
  return !((bits_ & kFinOut) && (bits_ & kFinIn));
}

}  // namespace warren::nat
