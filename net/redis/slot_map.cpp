// CRC16 key slots, CLUSTER SLOTS parsing and redirect parsing. Everything read from the
// network is checked before use: slot ranges (each slot claimed once), ports, array shapes.
#include "net/redis/slot_map.hpp"

#include <array>

namespace chat::redis {

namespace {

constexpr std::array<uint16_t, 256> make_crc_table() {
  std::array<uint16_t, 256> table{};
  for (int i = 0; i < 256; ++i) {
    uint16_t crc = uint16_t(i << 8);
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 0x8000) ? uint16_t((crc << 1) ^ 0x1021) : uint16_t(crc << 1);
    table[size_t(i)] = crc;
  }
  return table;
}

constexpr auto crc_table = make_crc_table();

bool parse_port(std::string_view s, uint16_t& port) {
  uint64_t v;
  if (!parse_uint(s, v) || v == 0 || v > 65535)
    return false;
  port = uint16_t(v);
  return true;
}

} // namespace

uint16_t crc16(std::string_view data) {
  uint16_t crc = 0;
  for (unsigned char c : data)
    crc = uint16_t((crc << 8) ^ crc_table[((crc >> 8) ^ c) & 0xFF]);
  return crc;
}

uint16_t key_slot(std::string_view key) {
  auto open = key.find('{');
  if (open != std::string_view::npos) {
    auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      key = key.substr(open + 1, close - open - 1);
  }
  return uint16_t(crc16(key) & (slot_count - 1));
}

bool slot_map::complete() const {
  for (auto o : owner)
    if (o == none)
      return false;
  return true;
}

void slot_map::assign(int slot, const endpoint& ep) {
  size_t i = 0;
  while (i < masters.size() && !(masters[i] == ep))
    ++i;
  if (i == masters.size())
    masters.push_back(ep);
  owner[size_t(slot)] = uint16_t(i);
}

std::string parse_cluster_slots(const reply& r, const endpoint& asked, slot_map& out) {
  if (r.is_error())
    return "CLUSTER SLOTS: " + r.str;
  if (!r.is_array())
    return "CLUSTER SLOTS: not an array";
  slot_map map;
  for (auto& range : r.elements) {
    // [start, end, [host, port, id, ...], replicas...]
    if (!range.is_array() || range.elements.size() < 3)
      return "CLUSTER SLOTS: bad range entry";
    auto& lo = range.elements[0];
    auto& hi = range.elements[1];
    auto& master = range.elements[2];
    if (lo.type != reply::kind::integer || hi.type != reply::kind::integer || lo.integer < 0
        || hi.integer >= slot_count || lo.integer > hi.integer)
      return "CLUSTER SLOTS: bad slot range";
    if (!master.is_array() || master.elements.size() < 2 || !master.elements[0].is_string()
        || master.elements[1].type != reply::kind::integer)
      return "CLUSTER SLOTS: bad node entry";
    endpoint ep;
    ep.host = master.elements[0].str;
    if (ep.host.empty() || ep.host == "?")
      ep.host = asked.host;
    if (master.elements[1].integer <= 0 || master.elements[1].integer > 65535)
      return "CLUSTER SLOTS: bad port";
    ep.port = uint16_t(master.elements[1].integer);
    // Each slot once: a reply costs one pass over the slots at most, whatever its length,
    // and names at most slot_count masters (their index fits in owner's uint16_t).
    for (int64_t s = lo.integer; s <= hi.integer; ++s) {
      if (map.owner[size_t(s)] != slot_map::none)
        return "CLUSTER SLOTS: slot " + std::to_string(s) + " claimed twice";
      map.assign(int(s), ep);
    }
  }
  out = std::move(map);
  return {};
}

bool parse_redirect(std::string_view error, int& slot, endpoint& to) {
  // "<MOVED|ASK> <slot> <host>:<port>"; the host may be an IPv6 address (last ':' splits).
  auto sp1 = error.find(' ');
  if (sp1 == std::string_view::npos)
    return false;
  auto sp2 = error.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos)
    return false;
  uint64_t s;
  if (!parse_uint(error.substr(sp1 + 1, sp2 - sp1 - 1), s) || s >= uint64_t(slot_count))
    return false;
  auto addr = error.substr(sp2 + 1);
  auto colon = addr.rfind(':');
  if (colon == std::string_view::npos)
    return false; // an empty host (":6381") means the node that answered: caller fills it
  endpoint ep;
  ep.host = std::string(addr.substr(0, colon));
  if (ep.host.size() > 2 && ep.host.front() == '[' && ep.host.back() == ']')
    ep.host = ep.host.substr(1, ep.host.size() - 2);
  if (!parse_port(addr.substr(colon + 1), ep.port))
    return false;
  slot = int(s);
  to = std::move(ep);
  return true;
}

} // namespace chat::redis
