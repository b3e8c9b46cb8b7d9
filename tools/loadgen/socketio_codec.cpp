// Socket.IO (v5 over Engine.IO v4's WebSocket transport) for the load generator: the
// greeting is the namespace CONNECT with {"user"} as auth, ops are events without ack ids
// (the node then answers with events named after the reply's op), and the node's pings
// are answered. Server events carry the native objects, so the fields are read from the
// array's second element.
#include "json_fields.hpp"
#include "protocol_codec.hpp"

namespace chat::loadgen {

namespace {

class socketio_codec final : public protocol_codec {
public:
  std::string target(std::string_view) const override {
    return "/socket.io/?EIO=4&transport=websocket";
  }

  bool encode_greeting(std::string& out, std::string_view user) override {
    out.assign(R"(40{"user":)");
    append_json_string(out, user);
    out.push_back('}');
    return true;
  }

  void encode_join(std::string& out, std::string_view room) override {
    out.assign(R"(42["join",{"room":)");
    append_json_string(out, room);
    out.append("}]");
  }

  void encode_send(std::string& out, std::string_view room, std::string_view text,
                   std::string_view cid, ack_mode ack) override {
    out.assign(R"(42["send",{)");
    append_send_fields(out, room, text, cid, ack);
    out.append("}]");
  }

  event parse(std::string_view frame) override {
    event ev;
    if (frame == "2") { // Engine.IO ping
      ev.reply = "3";
      return ev;
    }
    if (frame.substr(0, 2) != "42") // open, CONNECT answer, ...
      return ev;
    parse_fields(fields_, frame.substr(2), 2, ev);
    return ev;
  }

private:
  json_fields fields_;
};

} // namespace

std::unique_ptr<protocol_codec> make_socketio_codec() { return std::make_unique<socketio_codec>(); }

std::unique_ptr<protocol_codec> make_codec(protocol proto) {
  return proto == protocol::socketio ? make_socketio_codec() : make_native_codec();
}

} // namespace chat::loadgen
