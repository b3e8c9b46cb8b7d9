// Test doubles for the Engine.IO layer's seams (header-only): a WebSocket link that records
// the frames it is given, a handler that records what its session delivers, and queries
// decoded as the HTTP session decodes them.
#pragma once

#include "net/engineio_server.hpp"
#include "net/url_target.hpp"

#include <string>
#include <vector>

namespace chat::test {

// A query string ("EIO=4&transport=polling") as the endpoint receives it; a target that
// does not decode (the HTTP session would refuse it) reads as not ok.
inline net::eio::query eio_query(std::string_view text) {
  std::string error;
  auto t = net::parse_target("/socket.io/?" + std::string(text), error);
  if (!t) {
    net::eio::query bad;
    bad.ok = false;
    return bad;
  }
  return net::eio::read_query(*t);
}

// Text frames read as their payload, binary frames as "<bin>" + payload.
inline std::string frame_text(const frame_ptr& f) {
  auto v = net::eio::view_frame(*f);
  return (v.binary ? "<bin>" : "") + std::string(v.payload);
}

struct fake_link : net::eio::ws_link {
  std::vector<frame_ptr> frames;
  bool closed = false;
  uint16_t code = 0;
  std::string reason;

  bool push(frame_ptr f) override {
    if (closed)
      return false;
    frames.push_back(std::move(f));
    return true;
  }
  void close(uint16_t c, const std::string& r) override {
    if (closed)
      return;
    closed = true;
    code = c;
    reason = r;
  }
  uint64_t queued_bytes() const override { return 0; }

  std::vector<std::string> texts() const {
    std::vector<std::string> out;
    for (auto& f : frames)
      out.push_back(frame_text(f));
    return out;
  }
  // The frames received since the last call.
  std::vector<std::string> take() {
    auto out = texts();
    frames.clear();
    return out;
  }
};

struct recording_handler : net::eio::handler {
  std::vector<std::string> messages; // binary ones as "<bin>" + bytes
  int batches = 0;
  int closes = 0;
  std::string close_reason;

  void on_message(net::eio::session&, std::string_view data, bool binary) override {
    messages.push_back((binary ? "<bin>" : "") + std::string(data));
  }
  void on_batch_end(net::eio::session&) override { ++batches; }
  void on_close(net::eio::session&, const std::string& reason) override {
    ++closes;
    close_reason = reason;
  }
};

} // namespace chat::test
