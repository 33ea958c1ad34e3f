// A reliable, ordered byte stream (TCP in every backend) and a listener that accepts them.
// Ownership: whoever holds the unique_ptr owns the connection. Destroying a Stream guarantees
// no handler runs afterwards; it aborts (resets) the connection unless close() came first, in
// which case the queued bytes still flush ("close, then drop" loses nothing). Handlers may
// destroy the Stream.
#pragma once

#include <functional>
#include <memory>

#include "nodes/net/bytes.h"
#include "nodes/net/endpoint.h"
#include "nodes/net/result.h"

namespace warren {

class Stream {
 public:
  struct Handlers {
    std::function<void()> on_connected;             // outbound streams only
    std::function<void(ByteView data)> on_data;     // `data` is valid only during the call
    // The peer closed (ok status) or the connection failed, was refused or reset (error).
    // Fires at most once; nothing fires after it.
    std::function<void(const Status& reason)> on_closed;
  };

  virtual ~Stream() = default;
  // Events are held until handlers are set, so none is lost between connect/accept and here.
  virtual void set_handlers(Handlers handlers) = 0;
  // Queues bytes for sending (also while still connecting). Error once closed or failed.
  virtual Status write(ByteView data) = 0;
  // Bytes written but not yet handed to the network: protocol code uses it to bound queues.
  virtual size_t pending_write_bytes() const = 0;
  // Graceful close: queued bytes are flushed, then the stream is shut down, even if the Stream
  // object is destroyed right after. No handler runs after close().
  virtual void close() = 0;
  virtual bool connected() const = 0;
  virtual Endpoint local_endpoint() const = 0;
  virtual Endpoint remote_endpoint() const = 0;
};

class StreamListener {
 public:
  using AcceptHandler = std::function<void(std::unique_ptr<Stream> stream)>;
  virtual ~StreamListener() = default;
  virtual Endpoint local_endpoint() const = 0;
  // Connections that arrive before a handler is set wait in the backlog.
  virtual void set_accept_handler(AcceptHandler handler) = 0;
};

}  // namespace warren
