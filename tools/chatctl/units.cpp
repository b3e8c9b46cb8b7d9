// Number, duration and byte formatting; terminal-safe text.
#include "units.hpp"

#include <cmath>
#include <cstdio>

namespace chat::chatctl {

std::string format_rate(double per_second) {
  if (!std::isfinite(per_second) || per_second <= 0)
    return "0";
  char buf[32];
  if (per_second < 100)
    std::snprintf(buf, sizeof(buf), "%.1f", per_second);
  else
    std::snprintf(buf, sizeof(buf), "%.0f", per_second);
  return buf;
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0)
    seconds = 0;
  auto s = static_cast<uint64_t>(seconds);
  char buf[48];
  if (s < 60)
    std::snprintf(buf, sizeof(buf), "%llus", static_cast<unsigned long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else if (s < 86400)
    std::snprintf(buf, sizeof(buf), "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s % 3600 / 60));
  else
    std::snprintf(buf, sizeof(buf), "%llud%02lluh", static_cast<unsigned long long>(s / 86400),
                  static_cast<unsigned long long>(s % 86400 / 3600));
  return buf;
}

std::string format_bytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes);
  int unit = 0;
  while (v >= 1024 && unit < 4) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.1f %s" : "%.0f %s", v, units[unit]);
  return buf;
}

std::string printable(const std::string& text) {
  std::string out = text;
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f)
      c = '?';
  }
  return out;
}

std::size_t display_width(const std::string& text) {
  std::size_t n = 0;
  for (unsigned char c : text)
    if ((c & 0xC0) != 0x80)
      ++n;
  return n;
}

} // namespace chat::chatctl
