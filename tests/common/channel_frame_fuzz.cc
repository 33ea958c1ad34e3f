// Fuzzes the channel's frame decoder and message assembler. The first input byte picks how the
// rest is cut into feeds and the limits. Never crash; the decoders agree with themselves however
// the bytes are split; re-encoding what was decoded reproduces the consumed input; nothing beyond
// the limits is ever returned.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "nodes/common/channel_frame.h"

namespace {

using warren::Bytes;
using warren::ByteView;

void check(bool ok) {
  if (!ok) std::abort();
}

struct FrameRun {
  std::vector<warren::Frame> frames;
  bool error = false;
};

FrameRun decode_frames(ByteView input, size_t chunk, size_t max_payload) {
  warren::FrameDecoder d(max_payload);
  FrameRun run;
  for (size_t i = 0; i < input.size() && !run.error; i += chunk) {
    d.feed(input.sub(i, chunk));
    while (true) {
      auto f = d.next();
      if (!f.ok()) {
        run.error = true;
        check(!d.next().ok());  // sticky
        break;
      }
      if (!*f) break;
      check((*f)->payload.size() <= max_payload);
      run.frames.push_back(std::move(**f));
    }
  }
  return run;
}

struct MessageRun {
  std::vector<Bytes> messages;
  bool error = false;
};

MessageRun assemble(ByteView input, size_t chunk, size_t max_message) {
  warren::MessageAssembler a(max_message);
  MessageRun run;
  for (size_t i = 0; i < input.size() && !run.error; i += chunk) {
    a.feed(input.sub(i, chunk));
    while (true) {
      auto m = a.next();
      if (!m.ok()) {
        run.error = true;
        break;
      }
      if (!*m) break;
      check((*m)->size() <= max_message);
      run.messages.push_back(std::move(**m));
    }
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t knob = data[0];
  const ByteView input(data + 1, size - 1);
  const size_t chunk = 1 + knob % 17;
  const size_t max_payload = (knob & 0x80) ? warren::kMaxFramePayloadBytes : 64;

  const FrameRun whole = decode_frames(input, input.size() + 1, max_payload);
  const FrameRun pieces = decode_frames(input, chunk, max_payload);
  check(whole.error == pieces.error && whole.frames.size() == pieces.frames.size());
  Bytes again;
  for (size_t i = 0; i < whole.frames.size(); ++i) {
    check(whole.frames[i].type == pieces.frames[i].type &&
          whole.frames[i].payload == pieces.frames[i].payload);
    check(warren::append_frame(again, static_cast<warren::FrameType>(whole.frames[i].type),
                               whole.frames[i].payload)
              .ok());
  }
  check(again.size() <= input.size() &&
        Bytes(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(again.size())) == again);

  const size_t max_message = (knob & 0x40) ? 1 << 20 : 100;
  const MessageRun m_whole = assemble(input, input.size() + 1, max_message);
  const MessageRun m_pieces = assemble(input, chunk, max_message);
  check(m_whole.error == m_pieces.error && m_whole.messages == m_pieces.messages);
  Bytes stream;
  for (const Bytes& m : m_whole.messages) warren::append_message(stream, m);
  check(stream.size() <= input.size() &&
        Bytes(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(stream.size())) == stream);
  return 0;
}
