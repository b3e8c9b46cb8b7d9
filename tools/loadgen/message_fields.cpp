// Encoding of the scheduled send time into message text and of the message number into cid.
#include "message_fields.hpp"

#include <charconv>
#include <chrono>
#include <unistd.h>

namespace chat::loadgen {

namespace {

template <typename Int>
void append_number(std::string& out, Int value) {
  char digits[24];
  auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

template <typename Int>
std::optional<Int> parse_number(std::string_view s) {
  Int value{};
  auto result = std::from_chars(s.data(), s.data() + s.size(), value);
  if (result.ec != std::errc{} || result.ptr == s.data())
    return std::nullopt;
  return value;
}

} // namespace

void write_stamp(std::string& out, int64_t due_ns, std::size_t size) {
  out.assign("t=");
  append_number(out, due_ns);
  if (out.size() < size)
    out.append(size - out.size(), 'x');
}

std::optional<int64_t> read_stamp(std::string_view text) {
  if (text.size() < 3 || text[0] != 't' || text[1] != '=')
    return std::nullopt;
  return parse_number<int64_t>(text.substr(2));
}

void write_cid(std::string& out, std::string_view run, uint64_t k) {
  out.assign(run);
  out.push_back('-');
  append_number(out, k);
}

std::optional<uint64_t> read_cid(std::string_view cid, std::string_view run) {
  if (cid.size() <= run.size() + 1 || cid.substr(0, run.size()) != run || cid[run.size()] != '-')
    return std::nullopt;
  return parse_number<uint64_t>(cid.substr(run.size() + 1));
}

std::string make_run_id() {
  const auto wall = std::chrono::system_clock::now().time_since_epoch();
  const uint64_t seed =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(wall).count()) ^
      (static_cast<uint64_t>(::getpid()) << 40);
  char digits[20];
  auto result = std::to_chars(digits, digits + sizeof digits, seed, 36);
  return std::string(digits, result.ptr);
}

} // namespace chat::loadgen
