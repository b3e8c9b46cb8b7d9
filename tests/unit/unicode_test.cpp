// Unit: strict UTF-8 — every class of ill-formed sequence is refused, repair replaces each
// maximal ill-formed subpart with one U+FFFD, truncation never splits a character.
#include "net/unicode.hpp"

#include <catch2/catch.hpp>

using namespace chat::net;

TEST_CASE("well-formed UTF-8 is valid") {
  const char* good[] = {
    "", "ascii only, long enough to take the eight-byte path", "h\xc3\xa9", // é
    "\xe2\x82\xac", "\xef\xbf\xbd", "\xed\x9f\xbf", "\xee\x80\x80", // U+20AC, FFFD, D7FF, E000
    "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80",     // U+1F600, 10FFFF, 10000
  };
  for (auto* s : good) {
    INFO(s);
    CHECK(utf8_valid(s));
  }
  CHECK(utf8_valid(std::string("a\0b", 3)));
}

TEST_CASE("ill-formed UTF-8 is refused wherever it sits") {
  const char* bad[] = {
    "\x80", "\xbf", "\xc0\xaf", "\xc1\xbf",           // stray continuation, overlong 2-byte
    "\xe0\x80\xaf", "\xe0\x9f\xbf",                    // overlong 3-byte
    "\xed\xa0\x80", "\xed\xb0\x80", "\xed\xbf\xbf",     // encoded surrogates
    "\xf0\x80\x80\xaf", "\xf0\x8f\xbf\xbf",             // overlong 4-byte
    "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\xfe", // above U+10FFFF, never used
    "\xc3", "\xe2\x82", "\xf0\x9f\x98",                 // truncated at the end
    "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80",     // bad continuation
  };
  for (auto* s : bad) {
    std::string alone(s);
    INFO(alone);
    CHECK_FALSE(utf8_valid(alone));
    // After eight ASCII bytes (the fast path) and in the middle of valid text.
    std::string later = "abcdefghij" + alone + "klmnopqrstuvwxyz";
    CHECK_FALSE(utf8_valid(later));
    CHECK(utf8_valid_prefix(later) == 10);
  }
}

TEST_CASE("repair replaces maximal ill-formed subparts with U+FFFD") {
  std::string scratch;
  std::string valid = "caf\xc3\xa9";
  CHECK(utf8_repaired(valid, scratch).data() == valid.data()); // no copy when valid
  // ED B0 80: ED admits only 80..9F next, so each of the three bytes is replaced.
  CHECK(utf8_repaired("a\xed\xb0\x80z", scratch) == "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
  CHECK(utf8_repaired("a\xed\x9f", scratch) == "a\xef\xbf\xbd");
  // E2 82 is one maximal subpart (a truncated three-byte sequence): one replacement.
  CHECK(utf8_repaired("\xe2\x82(", scratch) == "\xef\xbf\xbd(");
  CHECK(utf8_repaired("\xc0\xaf", scratch) == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(utf8_repaired("\xf0\x9f\x98", scratch) == "\xef\xbf\xbd");
  CHECK(utf8_repaired("\xff\xfe\xc3\xa9", scratch) == "\xef\xbf\xbd\xef\xbf\xbd\xc3\xa9");
  for (auto* s : {"\xed\xa0\x80\xed\xb0\x80", "\x80\x80\x80", "x\xf4\x90\x80\x80y"})
    CHECK(utf8_valid(utf8_repaired(s, scratch)));
}

TEST_CASE("truncation ends between characters") {
  std::string s = "ab\xc3\xa9\xf0\x9f\x98\x80"; // a b é 😀 : 2 + 2 + 4 bytes
  CHECK(utf8_truncated(s, 100) == s);
  CHECK(utf8_truncated(s, 3) == "ab");
  CHECK(utf8_truncated(s, 4) == "ab\xc3\xa9");
  CHECK(utf8_truncated(s, 7) == "ab\xc3\xa9");
  CHECK(utf8_truncated(s, 8) == s);
  CHECK(utf8_truncated(s, 0).empty());
}

TEST_CASE("code points decode one after another") {
  std::string s = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  size_t i = 0;
  CHECK(utf8_next(s, i) == U'a');
  CHECK(utf8_next(s, i) == U'\u00e9');
  CHECK(utf8_next(s, i) == U'\u20ac');
  CHECK(utf8_next(s, i) == U'\U0001F600');
  CHECK(i == s.size());
}
