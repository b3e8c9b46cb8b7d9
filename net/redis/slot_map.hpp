// Redis Cluster routing: the slot of a key (CRC16 of the key or of its {hash tag}, mod
// 16384), the slot -> master map read from CLUSTER SLOTS, and MOVED/ASK redirections.
#pragma once

#include "net/redis/resp.hpp"
#include "net/redis/settings.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chat::redis {

constexpr int slot_count = 16384;

uint16_t crc16(std::string_view data); // CRC16-CCITT (XMODEM), as Redis Cluster uses
uint16_t key_slot(std::string_view key);

struct slot_map {
  static constexpr uint16_t none = 0xFFFF;
  std::vector<endpoint> masters;
  std::vector<uint16_t> owner = std::vector<uint16_t>(slot_count, none); // index in masters

  const endpoint* owner_of(int slot) const {
    auto i = owner[size_t(slot)];
    return i == none ? nullptr : &masters[i];
  }
  bool complete() const;
  // Makes `ep` the owner of `slot` (after MOVED), adding it to masters when new.
  void assign(int slot, const endpoint& ep);
};

// Reads a CLUSTER SLOTS reply. An empty or "?" host means the node that was asked.
// Returns "" or what is wrong with the reply.
std::string parse_cluster_slots(const reply& r, const endpoint& asked, slot_map& out);

// "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" -> slot and endpoint. The host
// is empty when Redis does not know its address (":6381"): the node that answered.
bool parse_redirect(std::string_view error, int& slot, endpoint& to);

} // namespace chat::redis
