// The chat's server frames as JSON objects ({"op": ..., fields}), written in one place for
// every wire protocol. A protocol only says how the object becomes a whole frame: the
// native protocol closes it with its "rid", Socket.IO sends it as an event or an ack.
// Each frame is written once into a per-thread buffer and copied once into the shared
// frame (one allocation), whatever the protocol.
#pragma once

#include "actors/wire.hpp"

#include <initializer_list>
#include <string_view>

namespace chat::net {

class object_encoder : public wire_encoder {
public:
  frame_ptr hello(const std::string& user, const std::string& node,
                  const std::string& session) const final;
  frame_ptr joined(const std::string& room, uint64_t seq, const std::string& rid) const final;
  frame_ptr left(const std::string& room, const std::string& rid) const final;
  frame_ptr ack(const std::string& room, const std::string& cid, uint64_t seq, int64_t ts_ms,
                const std::string& rid) const final;
  frame_ptr msg(const chat_message& m) const final;
  frame_ptr history(const std::string& room, const std::vector<const chat_message*>& ms,
                    const std::string& rid) const final;
  frame_ptr member(const std::string& room, const std::string& user, bool joined) const final;
  frame_ptr presence(const std::string& user, bool online) const final;
  frame_ptr presence_reply(const std::map<std::string, bool>& online,
                           const std::string& rid) const final;
  frame_ptr typing(const std::string& room, const std::string& user) const final;
  frame_ptr read(const std::string& room, const std::string& user, uint64_t seq) const final;
  frame_ptr error(error_code code, const std::string& message,
                  const std::string& rid) const final;
  frame_ptr pong(const std::string& rid) const final;
  frame_ptr authed(int64_t expires_s, const std::string& rid) const final;

  // An object without its closing brace (`{"op":"<op>",...`) and its op.
  struct open_object {
    std::string_view op;
    std::string_view text;
  };

protected:
  // The whole frame of one object; `rid` is the command's reply id, empty for a push.
  virtual frame_ptr frame(const open_object& object, const std::string& rid) const = 0;
  // The frame of a room message (a protocol may add to it, e.g. Socket.IO's offset).
  virtual frame_ptr msg_frame(const open_object& object, const chat_message&) const {
    return frame(object, {});
  }
};

// `s` as a JSON string's contents (escaped, without the quotes; ill-formed UTF-8 repaired
// as valid_text does) in a per-thread buffer, valid until the next call on this thread.
std::string_view json_string_contents(std::string_view s);

// `s`, or when it is not valid UTF-8 a per-thread copy with U+FFFD in place of each
// ill-formed sequence, valid until the next call: a client must never receive a frame it
// has to reject.
std::string_view valid_text(std::string_view s);

// A text frame of `parts` in order, in one allocation of the exact size.
frame_ptr text_frame(std::initializer_list<std::string_view> parts);

} // namespace chat::net
