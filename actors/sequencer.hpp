// Assigns a room's sequence numbers. The room's delivery logic only sees this interface:
// the local sequencer numbers messages as they arrive; a cluster sequencer (Redis INCR +
// PUBLISH) will hand messages back asynchronously, in seq order, with remote ones mixed in.
#pragma once

#include "actors/wire.hpp"

#include <functional>

namespace chat {

class sequencer {
public:
  // Receives each message once it has its seq, in seq order. `own` is true for messages
  // submitted through this sequencer (in submission order), false for other nodes' ones.
  using sink = std::function<void(chat_message&&, bool own)>;

  virtual ~sequencer() = default;
  // Numbering continues after `last_seq` (the room's highest stored seq).
  virtual void start(uint64_t last_seq, sink deliver) = 0;
  virtual void submit(chat_message&& m) = 0;
  virtual uint64_t last_seq() const = 0;
};

// Single node: the room actor is the only writer of its seq.
class local_sequencer final : public sequencer {
public:
  void start(uint64_t last_seq, sink deliver) override {
    last_ = last_seq;
    deliver_ = std::move(deliver);
  }
  void submit(chat_message&& m) override {
    m.seq = ++last_;
    deliver_(std::move(m), true);
  }
  uint64_t last_seq() const override { return last_; }

private:
  uint64_t last_ = 0;
  sink deliver_;
};

} // namespace chat
