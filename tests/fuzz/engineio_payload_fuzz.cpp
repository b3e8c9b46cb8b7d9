// Fuzz target: Engine.IO request handling. The input is "<query>\n<body>": the query goes
// through the HTTP session's target decoding (url_target), then the endpoint's checks (GET, POST, WebSocket), the body through the payload
// decoder (which must round-trip) and as a POST body into a live polling session whose
// handler echoes every message; what a GET then answers must be valid UTF-8 and decode as
// a payload again. The body also goes in as one WebSocket text and binary message, and
// its records, one WebSocket message each, into the probe of a polling session's upgrade.
#include "net/engineio_server.hpp"
#include "net/unicode.hpp"

#include "tests/support/engineio_fakes.hpp"

#include <cstdlib>

using namespace chat::net::eio;

namespace {

struct echo : handler {
  void on_message(session& s, std::string_view data, bool binary) override {
    s.push(binary ? make_binary_frame(data) : make_frame(packet_type::message, data));
  }
  void on_close(session&, const std::string&) override {}
};

void check(bool ok) {
  if (!ok)
    std::abort();
}

void check_answer(const http_answer& a) {
  check(a.status == 200 || a.status == 400 || a.status == 403 || a.status == 413
        || a.status == 503);
  check(chat::net::utf8_valid(a.body));
}

limits fuzz_limits() {
  limits l;
  l.max_payload = 4096;
  l.max_packets = 64;
  l.queue_bytes = 1 << 16;
  return l;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto nl = input.find('\n');
  auto query_text = nl == std::string_view::npos ? std::string_view() : input.substr(0, nl);
  auto body = nl == std::string_view::npos ? input : input.substr(nl + 1);

  std::vector<packet> packets;
  if (decode_payload(body, 64, packets) == payload_error::none) {
    std::vector<packet> again;
    check(decode_payload(encode_payload(packets), 64, again) == payload_error::none);
    check(again.size() == packets.size());
    for (size_t i = 0; i < again.size(); ++i)
      check(again[i].type == packets[i].type && again[i].binary == packets[i].binary
            && again[i].data == packets[i].data);
  }

  auto query = chat::test::eio_query(query_text);
  auto now = clock::time_point{} + std::chrono::hours(1);
  server srv(fuzz_limits(), [](session&) { return std::make_unique<echo>(); });
  auto ignore = [] {};
  for (const char* method : {"GET", "POST", "PUT"}) {
    auto r = srv.handle_http({method, query, "text/plain", body}, ignore, now);
    if (r.answer)
      check_answer(*r.answer);
    else
      r.pending->poll_aborted(now);
  }
  auto ws_err = srv.check_websocket(query);
  if (ws_err)
    check_answer(*ws_err);

  auto open = srv.handle_http({"GET", chat::test::eio_query("EIO=4&transport=polling"), "", ""}, ignore, now);
  check(open.answer && open.answer->status == 200);
  auto sid = open.answer->body.substr(9, 20); // 0{"sid":"<20 characters>",...
  auto q = chat::test::eio_query("EIO=4&transport=polling&sid=" + sid);
  auto posted = srv.handle_http({"POST", q, "text/plain", body}, ignore, now);
  check_answer(*posted.answer);
  auto got = srv.handle_http({"GET", q, "", ""}, ignore, now);
  if (got.answer) {
    check_answer(*got.answer);
    if (got.answer->status == 200)
      check(decode_payload(got.answer->body, 1 << 20, packets) == payload_error::none);
  } else {
    got.pending->poll_aborted(now);
  }

  // An upgrade: the records go to the probe, then a GET must still answer as documented.
  auto fresh = srv.handle_http({"GET", chat::test::eio_query("EIO=4&transport=polling"), "", ""},
                               ignore, now);
  check(fresh.answer && fresh.answer->status == 200);
  auto fresh_sid = fresh.answer->body.substr(9, 20);
  auto probe = std::make_shared<chat::test::fake_link>();
  auto upgrading = srv.attach_websocket(
    chat::test::eio_query("EIO=4&transport=websocket&sid=" + fresh_sid), probe, now);
  check(upgrading != nullptr);
  for (size_t at = 0; at <= body.size();) {
    auto end = std::min(body.find(record_separator, at), body.size());
    upgrading->ws_message(*probe, false, body.substr(at, end - at), now);
    at = end + 1;
  }
  auto after = srv.handle_http(
    {"GET", chat::test::eio_query("EIO=4&transport=polling&sid=" + fresh_sid), "", ""}, ignore,
    now);
  if (after.answer)
    check_answer(*after.answer);
  else
    after.pending->poll_aborted(now);
  for (auto& f : probe->frames)
    check(!view_frame(*f).binary && chat::net::utf8_valid(view_frame(*f).payload));

  auto link = std::make_shared<chat::test::fake_link>();
  auto ws = srv.attach_websocket(chat::test::eio_query("EIO=4&transport=websocket"), link, now);
  check(ws != nullptr);
  ws->ws_message(*link, false, body, now);
  ws->ws_message(*link, true, body, now);
  for (auto& f : link->frames)
    if (!view_frame(*f).binary)
      check(chat::net::utf8_valid(view_frame(*f).payload));
  srv.shutdown("done");
  return 0;
}
