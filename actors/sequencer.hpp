// Assigns a room's sequence numbers. The room's delivery logic only sees this interface:
// the local sequencer numbers messages as they arrive; the Redis sequencer
// (actors/redis_sequencer.hpp) hands them back asynchronously, in seq order, with other
// nodes' messages mixed in, and may refuse an own message (a repeat or conflict found
// cluster-wide, or Redis unreachable).
#pragma once

#include "actors/fifo.hpp"
#include "actors/wire.hpp"

#include <functional>

namespace chat {

class sequencer {
public:
  // Tickets name submitted messages; two values are special.
  static constexpr uint64_t remote = 0;         // another node's message
  static constexpr uint64_t orphan = UINT64_MAX; // numbered for this node, its sender gone
                                                 // (store it, ack nobody)
  // Receives each message once it has its seq, in seq order, with the ticket it was
  // submitted with (or one of the special values).
  using sink = std::function<void(chat_message&&, uint64_t ticket)>;
  // An own message that was not numbered.
  enum class refusal : uint8_t {
    duplicate,   // its (user, cid) already names message `seq` with the same text
    conflict,    // ... with another text
    unavailable, // the sequencer could not be reached (see `why`)
  };
  using refuse = std::function<void(uint64_t ticket, chat_message&&, refusal, uint64_t seq,
                                    const std::string& why)>;

  virtual ~sequencer() = default;
  // Numbering continues after `last_seq` (the room's highest stored or reserved seq).
  virtual void start(uint64_t last_seq, sink deliver, refuse refused) = 0;
  // `ticket` is the caller's name for the message (never a special value).
  virtual void submit(chat_message&& m, uint64_t ticket) = 0;
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
  void start(uint64_t last_seq, sink deliver, refuse) override {
    last_ = last_seq;
    deliver_ = std::move(deliver);
  }
  void submit(chat_message&& m, uint64_t ticket) override {
    if (last_ >= limit_ || !waiting_.empty()) {
      waiting_.push_back({std::move(m), ticket});
      return;
    }
    m.seq = ++last_;
    deliver_(std::move(m), ticket);
  }
  uint64_t last_seq() const override { return last_; }
  void limit(uint64_t upto) override {
    limit_ = upto;
    while (!waiting_.empty() && last_ < limit_) {
      auto w = std::move(waiting_.front());
      waiting_.pop_front();
      w.m.seq = ++last_;
      deliver_(std::move(w.m), w.ticket);
    }
  }
  size_t waiting() const override { return waiting_.size(); }

private:
  struct submitted {
    chat_message m;
    uint64_t ticket = 0;
  };
  uint64_t last_ = 0;
  uint64_t limit_ = UINT64_MAX;
  fifo<submitted> waiting_;
  sink deliver_;
};

} // namespace chat
