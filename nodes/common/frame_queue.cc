#include "nodes/common/frame_queue.h"

#include <cassert>

namespace warren::relay {

FrameQueue::FrameQueue(uint32_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

bool FrameQueue::push(ByteView frame) {
  if (!slots_) slots_ = std::make_unique<Bytes[]>(capacity_);
  bool dropped = false;
  if (size_ == capacity_) {
    head_ = (head_ + 1) % capacity_;  // the oldest slot becomes the newest
    --size_;
    dropped = true;
  }
  Bytes& slot = slots_[(head_ + size_) % capacity_];
  slot.assign(frame.begin(), frame.end());  // reuses the slot's buffer
  ++size_;
  return dropped;
}

const Bytes& FrameQueue::front() const {
  assert(size_ > 0);
  return slots_[head_];
}

void FrameQueue::pop_front() {
  assert(size_ > 0);
  head_ = (head_ + 1) % capacity_;
  if (--size_ == 0) clear();
}

void FrameQueue::clear() {
  slots_.reset();
  head_ = 0;
  size_ = 0;
}

}  // namespace warren::relay
