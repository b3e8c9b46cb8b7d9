// Assigns a room's sequence numbers. The room's delivery logic only sees this interface:
// the local sequencer numbers messages as they arrive; a cluster sequencer (Redis INCR +
// PUBLISH) will hand messages back asynchronously, in seq order, with remote ones mixed in.
#pragma once

#include "actors/fifo.hpp"
#include "actors/wire.hpp"

#include <functional>

namespace chat {

class sequencer {
public:
  // Receives each message once it has its seq, in seq order. `own` is true for messages
  // submitted through this sequencer (in submission order), false for other nodes' ones.
  using sink = std::function<void(chat_message&&, bool own)>;

  virtual ~sequencer() = default;
  // Numbering continues after `last_seq` (the room's highest stored or reserved seq).
  virtual void start(uint64_t last_seq, sink deliver) = 0;
  virtual void submit(chat_message&& m) = 0;
  virtual uint64_t last_seq() const = 0;
  // Seqs above `upto` may not be handed out until a later call raises it: the room's
  // durable reservation (it is written to the store before numbers above the previous
  // one are used, so no seq is ever reused after a crash). Messages submitted past it
  // wait, in order. A sequencer whose numbers are durable elsewhere ignores it.
  virtual void limit(uint64_t upto) = 0;
  // Submitted messages waiting for the limit to rise.
  virtual size_t waiting() const = 0;
};

// Single node: the room actor is the only writer of its seq.
class local_sequencer final : public sequencer {
public:
  void start(uint64_t last_seq, sink deliver) override {
    last_ = last_seq;
    deliver_ = std::move(deliver);
  }
  void submit(chat_message&& m) override {
    if (last_ >= limit_ || !waiting_.empty()) {
      waiting_.push_back(std::move(m));
      return;
    }
    m.seq = ++last_;
    deliver_(std::move(m), true);
  }
  uint64_t last_seq() const override { return last_; }
  void limit(uint64_t upto) override {
    limit_ = upto;
    while (!waiting_.empty() && last_ < limit_) {
      auto m = std::move(waiting_.front());
      waiting_.pop_front();
      m.seq = ++last_;
      deliver_(std::move(m), true);
    }
  }
  size_t waiting() const override { return waiting_.size(); }

private:
  uint64_t last_ = 0;
  uint64_t limit_ = UINT64_MAX;
  fifo<chat_message> waiting_;
  sink deliver_;
};

} // namespace chat
