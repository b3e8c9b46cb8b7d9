// Human formatting of numbers for tables and the top view: rates, durations, byte sizes,
// and untrusted names made safe to print on a terminal.
#pragma once

#include <cstdint>
#include <string>

namespace chat::chatctl {

// "0", "0.3", "12.5", "1234" (one decimal below 100, none above).
std::string format_rate(double per_second);
// "45s", "12m05s", "3h07m", "2d04h".
std::string format_duration(double seconds);
// "512 B", "1.5 KiB", "20 MiB".
std::string format_bytes(uint64_t bytes);
// `text` with control characters (escape sequences, newlines) replaced by '?'.
std::string printable(const std::string& text);
// Display width of UTF-8 text, counted in code points.
std::size_t display_width(const std::string& text);

} // namespace chat::chatctl
