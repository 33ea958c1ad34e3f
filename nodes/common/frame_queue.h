// A fixed-capacity FIFO of encoded frames that drops the OLDEST when full, as DERP's per-client
// send queue does: a late packet is worth less than a fresh one. The slots are allocated on
// the first push and freed when the queue drains, so a client whose channel keeps up (nearly
// every client, nearly all the time) costs a pointer and three counters. While backlogged, a
// slot keeps its buffer when popped, so cycling through the ring allocates nothing.
#pragma once

#include <cstdint>
#include <memory>

#include "nodes/net/bytes.h"

namespace warren::relay {

class FrameQueue {
 public:
  // `capacity` frames (at least 1).
  explicit FrameQueue(uint32_t capacity);

  // Appends a copy of `frame`. Returns true if the oldest frame was dropped to make room.
  bool push(ByteView frame);
  // The oldest frame; precondition: !empty().
  const Bytes& front() const;
  void pop_front();
  // Drops everything and frees the slots.
  void clear();

  bool empty() const { return size_ == 0; }
  uint32_t size() const { return size_; }
  uint32_t capacity() const { return capacity_; }
  bool allocated() const { return slots_ != nullptr; }

 private:
  std::unique_ptr<Bytes[]> slots_;
  uint32_t capacity_;
  uint32_t head_ = 0;
  uint32_t size_ = 0;
};

}  // namespace warren::relay
