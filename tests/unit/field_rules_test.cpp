// Unit: the name rules of PROTOCOL.md — which room names and printable ids are accepted,
// at the length bounds and with every excluded class of character.
#include "net/field_rules.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;

TEST_CASE("room names: printable identifiers of 1..128 bytes") {
  const std::string good[] = {
    "general", "a", "caf\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac", // café-日本
    "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9",          // 👨‍👩 (ZWJ sequence)
    "room_1.2-x/y#z", "dm", "DM:x", "x:dm:y", std::string(max_room_bytes, 'r'),
    std::string(max_room_bytes - 2, 'r') + "\xc3\xa9",
  };
  for (auto& r : good) {
    INFO(r);
    CHECK(room_name_problem(r).empty());
  }
  const std::string bad[] = {
    "", std::string(max_room_bytes + 1, 'r'), std::string(max_room_bytes - 1, 'r') + "\xc3\xa9",
    "a b", " lead", "trail ", "a\tb", "a\nb", std::string("a\0b", 3), "a\x7f", "\x1b[31m",
    "a\xc2\x85", "a\xc2\x9f",                                 // C1 controls
    "a\xc2\xa0", "a\xe3\x80\x80", "a\xe2\x80\xa8", "a\xe2\x80\x83", // NBSP, ideographic, LS, em
    "a\xc2\xad", "a\xe2\x80\x8b", "a\xe2\x80\x8f", "a\xe2\x80\xae", // SHY, ZWSP, RLM, RLO
    "a\xe2\x81\xa6", "\xef\xbb\xbf" "a",                        // LRI, BOM
    "dm:alice:bob", "dm:",
  };
  for (auto& r : bad) {
    INFO(r);
    CHECK_FALSE(room_name_problem(r).empty());
  }
  CHECK(room_name_problem("dm:a:b").find("direct") != std::string::npos);
  CHECK(room_name_problem("").find("1..128") != std::string::npos);
}

TEST_CASE("printable ids: no control characters, bounded") {
  CHECK(printable_problem("c-1", max_cid_bytes).empty());
  CHECK(printable_problem("with space and \xc3\xa9", max_cid_bytes).empty());
  CHECK(printable_problem(std::string(max_cid_bytes, 'c'), max_cid_bytes).empty());
  CHECK_FALSE(printable_problem(std::string(max_cid_bytes + 1, 'c'), max_cid_bytes).empty());
  CHECK_FALSE(printable_problem("", max_cid_bytes).empty());
  for (auto* s : {"a\nb", "\x7f", "a\xc2\x80", "\t"})
    CHECK_FALSE(printable_problem(s, max_cid_bytes).empty());
  CHECK_FALSE(printable_problem(std::string("\0", 1), max_cid_bytes).empty());
}
