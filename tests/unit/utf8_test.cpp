// Unit: strict UTF-8 validation and cutting text on character boundaries.
#include "net/utf8.hpp"

#include <catch2/catch.hpp>

using chat::net::utf8_prefix;
using chat::net::valid_utf8;

TEST_CASE("well-formed UTF-8 is accepted") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("h\xc3\xa9"));                 // é
  CHECK(valid_utf8("\xe2\x82\xac"));              // €
  CHECK(valid_utf8("\xf0\x9f\x98\x80"));          // U+1F600
  CHECK(valid_utf8("\xf4\x8f\xbf\xbf"));          // U+10FFFF
  CHECK(valid_utf8("\xed\x9f\xbf"));              // U+D7FF, just below the surrogates
  CHECK(valid_utf8(std::string_view("a\0b", 3))); // NUL is a character
}

TEST_CASE("ill-formed UTF-8 is refused") {
  const char* bad[] = {
    "\x80",             // lone continuation
    "\xc3",             // truncated
    "\xc0\xaf",         // overlong '/'
    "\xc1\xbf",         // overlong
    "\xe0\x80\xaf",     // overlong
    "\xed\xa0\x80",     // high surrogate
    "\xed\xb0\x80",     // low surrogate (what a lone \udc00 escape decodes to)
    "\xf0\x80\x80\xaf", // overlong
    "\xf4\x90\x80\x80", // past U+10FFFF
    "\xf5\x80\x80\x80", // never a lead byte
    "\xff",
    "\xe2\x82",         // truncated at the end
    "ok\xe2\x28\xa1",   // bad continuation
  };
  for (auto* s : bad) {
    INFO(s);
    CHECK_FALSE(valid_utf8(s));
  }
}

TEST_CASE("a prefix never cuts a character") {
  std::string s = "ab\xe2\x82\xac" "cd"; // ab€cd
  CHECK(utf8_prefix(s, 100) == s);
  CHECK(utf8_prefix(s, 2) == "ab");
  CHECK(utf8_prefix(s, 3) == "ab");
  CHECK(utf8_prefix(s, 4) == "ab");
  CHECK(utf8_prefix(s, 5) == "ab\xe2\x82\xac");
  for (size_t n = 0; n <= s.size(); ++n)
    CHECK(valid_utf8(utf8_prefix(s, n)));
}
