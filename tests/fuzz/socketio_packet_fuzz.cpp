// Fuzz target: Socket.IO packets, binary attachment sequences included. The input is a
// series of Engine.IO messages, each "<kind byte><length byte><bytes>" (odd kind: binary).
// They go (1) into a decoder, where each packet must re-encode and decode to itself and
// each chat event must decode to a command whose error answer is valid UTF-8 (the same
// command by the text path where that takes it), and (2) into a live Socket.IO chat
// connection over a WebSocket Engine.IO session, whose close frame (its reason may hold the
// client's namespace) must carry a UTF-8 reason.
#include "net/engineio_server.hpp"
#include "net/native_codec.hpp"
#include "net/socketio_chat.hpp"
#include "net/socketio_route.hpp"
#include "net/unicode.hpp"
#include "net/ws_frame.hpp"

#include "tests/support/engineio_fakes.hpp"

#include <rapidjson/document.h>

#include <cstdlib>

using namespace chat;
using namespace chat::net;

namespace {

void check(bool ok) {
  if (!ok)
    std::abort();
}

struct roundtrip : sio::decoder::handler {
  void on_packet(sio::packet& p, const rapidjson::Value& payload) override {
    if (p.type == sio::packet_type::event || p.type == sio::packet_type::binary_event) {
      auto c = sio::decode_chat_event(payload, p);
      check(utf8_valid(c.err_message));
      auto f = sio::chat_encoder::instance().error(c.err, c.err_message, c.rid);
      check(utf8_valid(eio::view_frame(*f).payload));
      // The text path (decode_event_args, for EVENT), where it takes one, agrees with the
      // parser.
      std::string rid = c.rid;
      auto t = p.type == sio::packet_type::event
                 ? decode_event_args(p.data, rid, sio::limits{}.max_depth, sio::reserved_event)
                 : std::nullopt;
      if (t)
        check(t->kind == c.kind && t->rid == c.rid
              && t->room == c.room && t->text == c.text && t->cid == c.cid && t->seq == c.seq
              && t->has_seq == c.has_seq && t->limit == c.limit
              && t->ack_persisted == c.ack_persisted && t->ack_given == c.ack_given
              && t->users == c.users && t->err == c.err && t->err_message == c.err_message);
    }
    sio::decoder again({});
    struct same : sio::decoder::handler {
      const sio::packet* want;
      bool got = false;
      void on_packet(sio::packet& q, const rapidjson::Value&) override {
        got = true;
        check(q.type == want->type && q.nsp == want->nsp && q.has_id == want->has_id
              && q.id == want->id && q.data == want->data && q.attachments == want->attachments);
      }
    } s;
    s.want = &p;
    check(again.feed(sio::encode(p), false, s).empty());
    for (auto& a : p.attachments)
      check(again.feed(a, true, s).empty());
    check(s.got);
  }
};

struct accepting : sio::chat_binding {
  void connect(sio::session& s, const rapidjson::Value& auth) override {
    // The node's own identity decision on the CONNECT auth (socketio_route).
    auto who = decide_chat_identity(sio::parse_chat_auth(auth), true);
    check(utf8_valid(who.error) && utf8_valid(who.user));
    if (who.error.empty())
      s.accept("/");
    else
      s.refuse("/", who.error);
  }
  void commands(std::vector<command>&& batch) override {
    for (auto& c : batch)
      check(utf8_valid(c.err_message));
  }
  void closed(const std::string&, bool) override {}
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::pair<bool, std::string>> messages;
  for (size_t i = 0; i + 2 <= size;) {
    bool binary = data[i] & 1;
    size_t len = std::min<size_t>(data[i + 1], size - i - 2);
    messages.emplace_back(binary, std::string(reinterpret_cast<const char*>(data + i + 2), len));
    i += 2 + len;
  }

  sio::decoder dec({});
  roundtrip rt;
  for (auto& [binary, bytes] : messages) {
    if (!binary && !utf8_valid(bytes))
      continue; // Engine.IO refuses such text before Socket.IO sees it
    if (!dec.feed(bytes, binary, rt).empty())
      break;
  }

  auto now = eio::clock::time_point{} + std::chrono::hours(1);
  eio::server srv(eio::limits{}, sio::make_handler_factory(sio::limits{}, [] {
                    return std::make_unique<sio::chat_app>(std::make_unique<accepting>());
                  }));
  auto link = std::make_shared<test::fake_link>();
  auto s = srv.attach_websocket(chat::test::eio_query("EIO=4&transport=websocket"), link, now);
  check(s != nullptr);
  for (auto& [binary, bytes] : messages)
    s->ws_message(*link, binary, binary ? bytes : "4" + bytes, now);
  for (auto& f : link->frames) {
    auto v = eio::view_frame(*f);
    if (!v.binary)
      check(utf8_valid(v.payload));
  }
  if (link->closed)
    check(utf8_valid(std::string_view(encode_close(link->code, link->reason)).substr(4)));
  srv.shutdown("done");
  return 0;
}
