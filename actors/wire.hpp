// The types that cross the boundary between the network side and the actors: decoded
// client commands, encoded outgoing frames, the encoder seam (one per wire protocol) and
// the outbound queue of a session. Actors never see sockets or JSON, only these.
#pragma once

#include "storage/message_store.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace chat {

// An encoded, immutable outgoing frame (a whole WebSocket frame: header and payload).
// A room message is encoded once and the same buffer is handed to every member.
using frame_ptr = std::shared_ptr<const std::string>;

// A sequenced room message (the same struct the stores keep).
using chat_message = storage::stored_message;

enum class error_code { bad_request, unauthorized, forbidden, not_member, rate_limited,
                        too_large, unavailable, internal, conflict };

const char* to_string(error_code c);

enum class op { join, leave, send, history, typing, read, presence, ping, invalid };

// One decoded client frame. `rid` is the reply id, kept opaque (raw JSON for the native
// protocol, an ack id for Socket.IO). An `invalid` command carries the error to answer.
struct command {
  op kind = op::invalid;
  std::string rid;
  std::string room;
  std::string text;
  std::string cid;
  uint64_t seq = 0;       // join: since; history: before; read: seq
  bool has_seq = false;
  uint32_t limit = 50;    // history
  bool ack_persisted = false;
  bool ack_given = false; // the frame chose an ack mode
  std::vector<std::string> users; // presence
  int64_t t0_ns = 0; // steady clock when the frame was read
  error_code err = error_code::bad_request;
  std::string err_message;
};

// Encodes server->client frames for one wire protocol. Implementations are stateless and
// shared; `id()` is a small index so a room can cache one encoding per protocol.
class wire_encoder {
public:
  static constexpr int max_encoders = 2;
  virtual ~wire_encoder() = default;
  virtual int id() const = 0;
  virtual frame_ptr hello(const std::string& user, const std::string& node,
                          const std::string& session) const = 0;
  virtual frame_ptr joined(const std::string& room, uint64_t seq, const std::string& rid) const = 0;
  virtual frame_ptr left(const std::string& room, const std::string& rid) const = 0;
  virtual frame_ptr ack(const std::string& room, const std::string& cid, uint64_t seq,
                        int64_t ts_ms, const std::string& rid) const = 0;
  virtual frame_ptr msg(const chat_message& m) const = 0;
  virtual frame_ptr history(const std::string& room, const std::vector<const chat_message*>& ms,
                            const std::string& rid) const = 0;
  virtual frame_ptr member(const std::string& room, const std::string& user, bool joined) const = 0;
  virtual frame_ptr presence(const std::string& user, bool online) const = 0;
  virtual frame_ptr presence_reply(const std::map<std::string, bool>& online,
                                   const std::string& rid) const = 0;
  virtual frame_ptr typing(const std::string& room, const std::string& user) const = 0;
  virtual frame_ptr read(const std::string& room, const std::string& user, uint64_t seq) const = 0;
  virtual frame_ptr error(error_code code, const std::string& message,
                          const std::string& rid) const = 0;
  virtual frame_ptr pong(const std::string& rid) const = 0;
};

// The outbound queue of one session, filled from actor threads and drained by the
// session's network thread. Bounded in bytes: a push past the bound closes the
// connection as a slow consumer and returns false.
class outbound {
public:
  virtual ~outbound() = default;
  virtual bool push(frame_ptr frame) = 0;
  // Closes the connection after what is queued (WebSocket close code and reason).
  virtual void close(uint16_t code, const std::string& reason) = 0;
  virtual uint64_t queued_bytes() const = 0;
  // Calls `ready` once, from any thread, when the queued bytes have fallen to `low` or
  // below; at once, on the caller's thread, when they already have. A closed connection
  // drops it uncalled. Catch-up and history pages are paced with it, so a replay of any
  // length never outgrows the queue. A queue that cannot tell calls it at once.
  virtual void when_drained(uint64_t low, std::function<void()> ready) {
    (void)low;
    ready();
  }
};

using outbound_ptr = std::shared_ptr<outbound>;

} // namespace chat
