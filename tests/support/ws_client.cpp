// Test client implementation: async Beast reads driven with run_for, for timeouts.
#include "support/ws_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <stdexcept>

namespace chat::test {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;

struct ws_client::link {
  boost::asio::io_context ioc;
  websocket::stream<beast::tcp_stream> ws{ioc};
  beast::flat_buffer buf;
};

bool frame::has(const char* key) const {
  return doc->IsObject() && doc->HasMember(key);
}

const rapidjson::Value& frame::at(const char* key) const {
  if (!has(key))
    throw std::runtime_error(std::string("frame has no '") + key + "': " + raw);
  return (*doc)[key];
}

std::string frame::str(const char* key) const {
  if (!has(key) || !(*doc)[key].IsString())
    return {};
  return (*doc)[key].GetString();
}

uint64_t frame::u64(const char* key) const {
  auto& v = at(key);
  if (!v.IsUint64())
    throw std::runtime_error(std::string("'") + key + "' is not an integer: " + raw);
  return v.GetUint64();
}

ws_client::ws_client(uint16_t port, const std::string& query,
                     const std::vector<std::pair<std::string, std::string>>& fields)
  : link_(std::make_unique<link>()) {
  auto& ws = link_->ws;
  tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
  beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(5));
  beast::get_lowest_layer(ws).connect(ep);
  beast::get_lowest_layer(ws).socket().set_option(tcp::no_delay(true));
  beast::get_lowest_layer(ws).expires_never();
  ws.read_message_max(64 << 20);
  ws.set_option(websocket::stream_base::decorator([fields](websocket::request_type& req) {
    for (auto& [name, value] : fields)
      req.set(name, value);
  }));
  ws.handshake("127.0.0.1", "/ws" + (query.empty() ? "" : "?" + query));
  open_ = true;
  hello_ = next_op("hello");
}

ws_client::~ws_client() {
  try {
    close();
  } catch (...) {
  }
}

void ws_client::send(const std::string& text) {
  link_->ws.text(true);
  link_->ws.write(boost::asio::buffer(text));
}

void ws_client::send_binary(const std::string& data) {
  link_->ws.binary(true);
  link_->ws.write(boost::asio::buffer(data));
}

uint16_t ws_client::close_code() const {
  return uint16_t(link_->ws.reason().code);
}

frame ws_client::next(ms timeout) {
  if (!open_)
    throw std::runtime_error("connection is closed");
  auto& ioc = link_->ioc;
  auto& ws = link_->ws;
  auto& buf = link_->buf;
  bool done = false;
  beast::error_code result;
  buf.clear();
  ws.async_read(buf, [&](beast::error_code ec, size_t) {
    done = true;
    result = ec;
  });
  ioc.restart();
  ioc.run_for(timeout);
  if (!done) {
    beast::get_lowest_layer(ws).socket().cancel();
    ioc.restart();
    ioc.run();
    open_ = false;
    throw std::runtime_error("timeout waiting for a frame");
  }
  if (result) {
    open_ = false;
    throw std::runtime_error("connection closed: " + result.message() + " ("
                             + std::string(ws.reason().reason.data(), ws.reason().reason.size()) + ")");
  }
  frame f;
  f.raw = beast::buffers_to_string(buf.data());
  f.doc = std::make_shared<rapidjson::Document>();
  f.doc->Parse(f.raw.c_str(), f.raw.size());
  if (f.doc->HasParseError() || !f.doc->IsObject())
    throw std::runtime_error("server sent a frame that is not a JSON object: " + f.raw);
  return f;
}

frame ws_client::next_op(const std::string& op, ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      throw std::runtime_error("timeout waiting for op " + op);
    auto f = next(left);
    if (f.op() == op)
      return f;
  }
}

bool ws_client::closed_within(ms timeout, std::string* reason) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (open_) {
    auto left = std::chrono::duration_cast<ms>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return false;
    try {
      next(left);
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).rfind("timeout", 0) == 0)
        return false;
      if (open_)
        throw; // not a close: a bad frame is the test's failure, not a closed connection
      if (reason)
        *reason = std::string(link_->ws.reason().reason.data(), link_->ws.reason().reason.size());
      return true;
    }
  }
  return true;
}

void ws_client::close() {
  if (!open_)
    return;
  open_ = false;
  beast::error_code ec;
  auto& socket = beast::get_lowest_layer(link_->ws).socket();
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

namespace {

std::string object(std::initializer_list<std::pair<const char*, std::string>> fields) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  for (auto& [k, v] : fields) {
    if (v.empty() && std::string(k) == "ack")
      continue;
    w.Key(k);
    w.String(v.c_str(), rapidjson::SizeType(v.size()));
  }
  w.EndObject();
  return buf.GetString();
}

} // namespace

frame ws_client::join(const std::string& room, ms timeout) {
  send(join_frame(room));
  return next_op("joined", timeout);
}

std::string join_frame(const std::string& room) {
  return object({{"op", "join"}, {"room", room}});
}

std::string send_frame(const std::string& room, const std::string& text, const std::string& cid,
                       const std::string& ack) {
  return object({{"op", "send"}, {"room", room}, {"text", text}, {"cid", cid}, {"ack", ack}});
}

} // namespace chat::test
