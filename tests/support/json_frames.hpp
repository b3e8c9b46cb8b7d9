// Builders of hostile JSON frames shared by the codec unit test and the end-to-end test:
// deep nesting and frames made of very many tiny values.
#pragma once

#include <cstddef>
#include <string>

namespace chat::test {

// {"op":"ping","x":<open × levels> 0 <close × levels>}
inline std::string nested_ping(size_t levels, const char* open, const char* close) {
  std::string s = R"({"op":"ping","x":)";
  for (size_t i = 0; i < levels; ++i)
    s += open;
  s += "0";
  for (size_t i = 0; i < levels; ++i)
    s += close;
  return s + "}";
}

// head, then `unit` repeated until the frame has at least `bytes` bytes, then tail.
inline std::string repeated(const std::string& head, const char* unit, size_t bytes,
                            const char* tail) {
  std::string s = head;
  s.reserve(bytes + 64);
  while (s.size() < bytes)
    s += unit;
  return s + tail;
}

} // namespace chat::test
