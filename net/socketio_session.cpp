// Socket.IO connection state over Engine.IO: namespaces and protocol errors.
#include "net/socketio_session.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat::net::sio {

class session::dispatcher final : public decoder::handler {
public:
  explicit dispatcher(session& s) : s_(s) {}
  void on_packet(packet& p, const rapidjson::Value& payload) override { s_.dispatch(p, payload); }
  bool on_event_text(packet& p) override { return s_.dispatch_event_text(p); }

private:
  session& s_;
};

session::session(eio::session& engine, limits lim, std::unique_ptr<app> application)
  : engine_(engine), lim_(lim), app_(std::move(application)), decoder_(lim) {}

void session::protocol_error(const std::string& what) {
  failed_ = true;
  engine_.close(1002, "socket.io protocol error: " + what, eio::close_cause::protocol_error);
}

void session::on_message(eio::session&, std::string_view data, bool binary) {
  if (failed_)
    return;
  dispatcher d(*this);
  if (auto err = decoder_.feed(data, binary, d); !err.empty())
    protocol_error(err);
}

// An EVENT on a connected namespace may go to the application unparsed; anything else
// takes dispatch(), which reports what is wrong.
bool session::dispatch_event_text(packet& p) {
  if (failed_)
    return true;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = nsps_.find(p.nsp);
    if (i == nsps_.end() || i->second != ns_state::connected)
      return false;
  }
  return app_->on_event_text(*this, p);
}

void session::dispatch(packet& p, const rapidjson::Value& payload) {
  if (failed_)
    return;
  std::optional<ns_state> state;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (auto i = nsps_.find(p.nsp); i != nsps_.end())
      state = i->second;
  }
  bool connected = state == ns_state::connected;
  switch (p.type) {
    case packet_type::connect:
      if (state) {
        protocol_error("CONNECT to namespace '" + p.nsp + "' twice");
        return;
      }
      {
        std::lock_guard<std::mutex> guard(mtx_);
        nsps_.emplace(p.nsp, ns_state::pending);
      }
      app_->on_connect(*this, p.nsp, payload);
      return;
    case packet_type::disconnect: {
      if (!connected) {
        protocol_error("DISCONNECT from namespace '" + p.nsp + "' that is not connected");
        return;
      }
      bool last;
      {
        std::lock_guard<std::mutex> guard(mtx_);
        nsps_.erase(p.nsp);
        last = nsps_.empty();
      }
      app_->on_disconnect(*this, p.nsp);
      if (last)
        engine_.close(1000, "client namespace disconnect");
      return;
    }
    case packet_type::event:
    case packet_type::binary_event:
      if (!connected) {
        protocol_error("EVENT on namespace '" + p.nsp + "' that is not connected");
        return;
      }
      app_->on_event(*this, p, payload);
      return;
    case packet_type::ack:
    case packet_type::binary_ack:
      if (!connected || !p.has_id) {
        protocol_error("ACK without an id or on a namespace that is not connected");
        return;
      }
      app_->on_ack(*this, p, payload);
      return;
    case packet_type::connect_error:
      protocol_error("CONNECT_ERROR from a client");
      return;
  }
}

void session::on_batch_end(eio::session&) {
  app_->on_batch_end(*this);
}

void session::on_close(eio::session&, const std::string& reason) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    nsps_.clear();
  }
  app_->on_close(*this, reason);
}

eio::clock::time_point session::deadline() const {
  return accepted_once_ ? eio::clock::time_point::max()
                        : engine_.opened_at() + lim_.connect_timeout;
}

void session::on_deadline(eio::session&, eio::clock::time_point) {
  if (!accepted_once_)
    engine_.close(1000, "no namespace connected within the connect timeout",
                  eio::close_cause::connect_timeout);
}

bool session::accept(const std::string& nsp, const std::string& sid, const std::string& pid) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = nsps_.find(nsp);
    if (i == nsps_.end() || i->second != ns_state::pending)
      return false;
    i->second = ns_state::connected;
  }
  accepted_once_ = true;
  packet p;
  p.type = packet_type::connect;
  p.nsp = nsp;
  // Both ids are ours (URL-safe base64): nothing to escape.
  p.data = "{\"sid\":\"" + (sid.empty() ? eio::random_id() : sid) + "\"";
  if (!pid.empty())
    p.data += ",\"pid\":\"" + pid + "\"";
  p.data += "}";
  send(p);
  return true;
}

void session::refuse(const std::string& nsp, const std::string& message) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    auto i = nsps_.find(nsp);
    if (i == nsps_.end() || i->second != ns_state::pending)
      return;
    nsps_.erase(i);
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("message");
  w.String(message.data(), rapidjson::SizeType(message.size()));
  w.EndObject();
  packet p;
  p.type = packet_type::connect_error;
  p.nsp = nsp;
  p.data.assign(buf.GetString(), buf.GetSize());
  send(p);
}

bool session::send(const packet& p) {
  for (auto& f : encode_frames(p))
    if (!engine_.push(std::move(f)))
      return false;
  return true;
}

void session::disconnect(const std::string& nsp) {
  bool last;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    if (nsps_.erase(nsp) == 0)
      return;
    last = nsps_.empty();
  }
  packet p;
  p.type = packet_type::disconnect;
  p.nsp = nsp;
  send(p);
  if (last)
    engine_.close(1000, "server namespace disconnect");
}

bool session::connected(const std::string& nsp) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto i = nsps_.find(nsp);
  return i != nsps_.end() && i->second == ns_state::connected;
}

std::function<std::unique_ptr<eio::handler>(eio::session&)> make_handler_factory(limits lim,
                                                                                app_factory make_app) {
  return [lim, make_app = std::move(make_app)](eio::session& s) -> std::unique_ptr<eio::handler> {
    return std::make_unique<session>(s, lim, make_app());
  };
}

} // namespace chat::net::sio
