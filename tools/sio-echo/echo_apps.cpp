// The echo behaviours of sio-echo (see echo_apps.hpp).
#include "echo_apps.hpp"

#include "net/engineio_packet.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace chat::sio_echo {

namespace {

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

// An event or ack answering `p` on its namespace, with `p`'s attachments when it had any
// (the placeholders in `data` keep referring to them in order).
net::sio::packet answer_to(const net::sio::packet& p, bool ack, std::string data) {
  using net::sio::packet_type;
  net::sio::packet out;
  bool binary = !p.attachments.empty();
  if (ack) {
    out.type = binary ? packet_type::binary_ack : packet_type::ack;
    out.has_id = true;
    out.id = p.id;
  } else {
    out.type = binary ? packet_type::binary_event : packet_type::event;
  }
  out.nsp = p.nsp;
  out.data = std::move(data);
  out.attachments = p.attachments;
  return out;
}

} // namespace

void engineio_echo::on_message(net::eio::session& s, std::string_view data, bool binary) {
  s.push(binary ? net::eio::make_binary_frame(data)
                : net::eio::make_frame(net::eio::packet_type::message, data));
}

std::string rest_of_args(const rapidjson::Value& args, const std::string& head) {
  std::string out = "[" + head;
  for (rapidjson::SizeType i = 1; i < args.Size(); ++i) {
    if (out.size() > 1)
      out.push_back(',');
    out += to_json(args[i]);
  }
  out.push_back(']');
  return out;
}

void socketio_echo::on_connect(net::sio::session& s, const std::string& nsp,
                               const rapidjson::Value& auth) {
  if (nsp != "/" && nsp != "/custom") {
    s.refuse(nsp, "Invalid namespace");
    return;
  }
  s.accept(nsp);
  net::sio::packet p;
  p.type = net::sio::packet_type::event;
  p.nsp = nsp;
  p.data = "[\"auth\"," + (auth.IsNull() ? std::string("{}") : to_json(auth)) + "]";
  s.send(p);
}

void socketio_echo::on_event(net::sio::session& s, net::sio::packet& p,
                             const rapidjson::Value& args) {
  std::string_view name(args[0].GetString(), args[0].GetStringLength());
  if (name == "message")
    s.send(answer_to(p, false, rest_of_args(args, "\"message-back\"")));
  else if (name == "message-with-ack" && p.has_id)
    s.send(answer_to(p, true, rest_of_args(args, "")));
}

} // namespace chat::sio_echo
