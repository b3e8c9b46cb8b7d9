// Engine.IO v4 packet and payload codec; base64 and ids from libsodium.
#include "net/engineio_packet.hpp"

#include "net/ws_frame.hpp"

#include <sodium.h>

#include <stdexcept>

namespace chat::net::eio {

namespace {

bool is_type_digit(char c) { return c >= '0' && c <= '6'; }

size_t base64_size(size_t bytes) { return (bytes + 2) / 3 * 4; }

void ensure_sodium() {
  static const int ready = sodium_init();
  if (ready < 0)
    throw std::runtime_error("libsodium cannot be initialized");
}

} // namespace

bool decode_text_packet(std::string_view text, packet& out) {
  if (text.empty() || !is_type_digit(text[0]))
    return false;
  out.type = packet_type(text[0] - '0');
  out.binary = false;
  out.data.assign(text.substr(1));
  return true;
}

const char* to_string(payload_error e) {
  switch (e) {
    case payload_error::none: return "none";
    case payload_error::empty_record: return "empty record";
    case payload_error::too_many_packets: return "too many packets";
    case payload_error::bad_packet: return "bad packet";
    case payload_error::bad_base64: return "bad base64";
  }
  return "bad packet";
}

payload_error decode_payload(std::string_view body, size_t max_packets, std::vector<packet>& out) {
  out.clear();
  size_t pos = 0;
  while (true) {
    if (out.size() == max_packets)
      return payload_error::too_many_packets;
    auto end = body.find(record_separator, pos);
    auto record = body.substr(pos, end == std::string_view::npos ? std::string_view::npos
                                                                 : end - pos);
    if (record.empty())
      return payload_error::empty_record;
    packet p;
    if (record[0] == 'b') {
      p.binary = true;
      if (!base64_decode(record.substr(1), p.data))
        return payload_error::bad_base64;
    } else if (!decode_text_packet(record, p)) {
      return payload_error::bad_packet;
    }
    out.push_back(std::move(p));
    if (end == std::string_view::npos)
      return payload_error::none;
    pos = end + 1;
  }
}

std::string encode_payload(const std::vector<packet>& packets) {
  std::string out;
  for (auto& p : packets) {
    if (!out.empty())
      out.push_back(record_separator);
    if (p.binary) {
      out.push_back('b');
      out += base64_encode(p.data);
    } else {
      out.push_back(char('0' + int(p.type)));
      out += p.data;
    }
  }
  return out;
}

frame_ptr make_frame(packet_type type, std::string_view data) {
  auto f = std::make_shared<std::string>();
  f->reserve(data.size() + 11);
  append_frame_header(*f, ws_opcode::text, data.size() + 1);
  f->push_back(char('0' + int(type)));
  f->append(data);
  return f;
}

frame_ptr make_binary_frame(std::string_view bytes) {
  return std::make_shared<const std::string>(encode_frame(ws_opcode::binary, bytes));
}

frame_view view_frame(const std::string& frame) {
  frame_view v;
  if (frame.size() < 2)
    return v;
  v.binary = (uint8_t(frame[0]) & 0x0f) == uint8_t(ws_opcode::binary);
  uint8_t len = uint8_t(frame[1]) & 0x7f;
  size_t header = len == 126 ? 4 : len == 127 ? 10 : 2;
  if (frame.size() >= header)
    v.payload = std::string_view(frame).substr(header);
  return v;
}

size_t polling_record_size(const std::string& frame) {
  auto v = view_frame(frame);
  return v.binary ? 1 + base64_size(v.payload.size()) : v.payload.size();
}

void append_polling_record(std::string& body, const std::string& frame) {
  auto v = view_frame(frame);
  if (!body.empty())
    body.push_back(record_separator);
  if (!v.binary) {
    body.append(v.payload);
    return;
  }
  body.push_back('b');
  body += base64_encode(v.payload);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(base64_size(bytes.size()) + 1, '\0'); // libsodium writes a terminating NUL
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

bool base64_decode(std::string_view text, std::string& out) {
  out.resize(text.size() / 4 * 3 + 3);
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0
      || end != text.data() + text.size()) {
    out.clear();
    return false;
  }
  out.resize(len);
  return true;
}

http_answer error_answer(http_error e, int status) {
  static const char* const messages[] = {"Transport unknown", "Session ID unknown",
                                         "Bad handshake method", "Bad request", "Forbidden",
                                         "Unsupported protocol version"};
  int code = int(e);
  http_answer a;
  a.status = status != 0 ? status : e == http_error::forbidden ? 403 : 400;
  a.content_type = "application/json";
  a.body = "{\"code\":" + std::to_string(code) + ",\"message\":\"" + messages[code] + "\"}";
  return a;
}

http_answer payload_answer(std::string body) {
  return http_answer{200, "text/plain; charset=UTF-8", std::move(body)};
}

http_answer ok_answer() { return http_answer{200, "text/html", "ok"}; }

std::string random_id() {
  ensure_sodium();
  unsigned char bytes[15];
  randombytes_buf(bytes, sizeof(bytes));
  char out[sodium_base64_ENCODED_LEN(15, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof(out), bytes, sizeof(bytes),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(out);
}

} // namespace chat::net::eio
