// The in-memory network's UDP socket (internal to memory_network.cc).
#pragma once

#include <memory>

#include "tests/support/memory_network.h"

namespace warren {
namespace memory_detail {

class MemoryUdpSocket final : public UdpSocket {
 public:
  // Registers itself with `host` under `key`; unregisters on destruction.
  MemoryUdpSocket(MemoryHost& host, const MemoryHost::BindKey& key);
  ~MemoryUdpSocket() override;

  Endpoint local_endpoint() const override { return Endpoint(key_.address, key_.port); }
  Status send_to(const Endpoint& to, ByteView payload) override;
  void set_receive_handler(ReceiveHandler handler) override;

  // A datagram arrived. The handler may destroy this socket: touch nothing after calling it.
  void deliver(const Endpoint& from, const Endpoint& local, ByteView payload);

 private:
  MemoryHost& host_;
  MemoryHost::BindKey key_;
  // Shared so that replacing or dropping the handler from inside it never destroys the
  // function that is running.
  std::shared_ptr<ReceiveHandler> handler_;
};

}  // namespace memory_detail
}  // namespace warren
