// Builds client WebSocket frames byte by byte for protocol tests, including the ones a
// conforming client never sends (unmasked, lying lengths, reserved bits and opcodes).
// Header-only so unit tests, end-to-end tests and fuzz seeds share it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::test {

inline const char client_mask_key[4] = {0x37, 0x5a, 0x0c, 0x71};

// A client frame's header announcing `length` bytes (whatever follows), masked unless told;
// `first_byte` is FIN, RSV and the opcode, e.g. 0x81 for a final text frame.
inline std::string frame_header(uint8_t first_byte, uint64_t length, bool masked = true) {
  std::string out(1, char(first_byte));
  uint8_t m = masked ? 0x80 : 0;
  if (length < 126) {
    out.push_back(char(m | length));
  } else if (length <= 0xffff) {
    out.push_back(char(m | 126));
    out.push_back(char(length >> 8));
    out.push_back(char(length & 0xff));
  } else {
    out.push_back(char(m | 127));
    for (int s = 56; s >= 0; s -= 8)
      out.push_back(char((length >> s) & 0xff));
  }
  if (masked)
    out.append(client_mask_key, 4);
  return out;
}

// A whole client frame holding `payload`.
inline std::string client_frame(uint8_t first_byte, std::string_view payload, bool masked = true) {
  auto out = frame_header(first_byte, payload.size(), masked);
  for (size_t i = 0; i < payload.size(); ++i)
    out.push_back(masked ? char(payload[i] ^ client_mask_key[i & 3]) : payload[i]);
  return out;
}

// A close frame's payload: the code in network order, then the reason.
inline std::string close_payload(uint16_t code, std::string_view reason = "") {
  std::string out{char(code >> 8), char(code & 0xff)};
  out.append(reason);
  return out;
}

} // namespace chat::test
