// The native JSON protocol of PROTOCOL.md: decoding of client frames into commands and the
// encoder of server frames (whole WebSocket text frames, ready to write).
#pragma once

#include "actors/wire.hpp"

#include <string_view>

namespace chat::net {

// Decodes one text frame (any bytes). Never throws: bad input yields an `invalid` command
// carrying the error to answer (and the frame's rid when it had a usable one). What it
// accepts is valid UTF-8 and follows the name rules and bounds of PROTOCOL.md.
// (native_decoder.cpp)
command decode_native(std::string_view payload);

class native_encoder final : public wire_encoder {
public:
  static const native_encoder& instance();
  int id() const override { return 0; }
  frame_ptr hello(const std::string& user, const std::string& node,
                  const std::string& session) const override;
  frame_ptr joined(const std::string& room, uint64_t seq, const std::string& rid) const override;
  frame_ptr left(const std::string& room, const std::string& rid) const override;
  frame_ptr ack(const std::string& room, const std::string& cid, uint64_t seq, int64_t ts_ms,
                const std::string& rid) const override;
  frame_ptr msg(const chat_message& m) const override;
  frame_ptr history(const std::string& room, const std::vector<const chat_message*>& ms,
                    const std::string& rid) const override;
  frame_ptr member(const std::string& room, const std::string& user, bool joined) const override;
  frame_ptr presence(const std::string& user, bool online) const override;
  frame_ptr presence_reply(const std::map<std::string, bool>& online,
                           const std::string& rid) const override;
  frame_ptr typing(const std::string& room, const std::string& user) const override;
  frame_ptr read(const std::string& room, const std::string& user, uint64_t seq) const override;
  frame_ptr error(error_code code, const std::string& message,
                  const std::string& rid) const override;
  frame_ptr pong(const std::string& rid) const override;
};

} // namespace chat::net
