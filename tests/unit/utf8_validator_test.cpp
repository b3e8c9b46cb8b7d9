// Unit: the incremental UTF-8 validator agrees with a reference decoder on every 1-, 2- and
// 3-byte sequence and on 4-byte sequences around every boundary, whole and cut anywhere.
#include "net/utf8_validator.hpp"
#include "tests/support/utf8_reference.hpp"

#include <catch2/catch.hpp>

#include <string>

using chat::net::utf8_validator;
using chat::test::reference_utf8_valid;

namespace {

// The validator's verdict on `s` fed in two pieces cut at `cut`.
bool valid_in_two(const std::string& s, size_t cut) {
  utf8_validator v;
  return v.feed(s.data(), cut) && v.feed(s.data() + cut, s.size() - cut) && v.complete();
}

} // namespace

TEST_CASE("every sequence of up to three bytes is judged like the reference") {
  size_t mismatches = 0, valid = 0;
  std::string s;
  for (int a = 0; a < 256; ++a) {
    s.assign(1, char(a));
    mismatches += utf8_validator::valid(s) != reference_utf8_valid(s);
    for (int b = 0; b < 256; ++b) {
      s.assign({char(a), char(b)});
      mismatches += utf8_validator::valid(s) != reference_utf8_valid(s);
      mismatches += valid_in_two(s, 1) != reference_utf8_valid(s);
      if (a < 0xE0 || a > 0xEF)
        continue; // only 3-byte leads can start a valid 3-byte sequence: sample the rest
      for (int c = 0; c < 256; ++c) {
        s.assign({char(a), char(b), char(c)});
        bool ref = reference_utf8_valid(s);
        valid += ref;
        mismatches += utf8_validator::valid(s) != ref;
        mismatches += valid_in_two(s, 2) != ref;
      }
    }
  }
  CHECK(mismatches == 0);
  CHECK(valid == 0xFFFF - 0x800 + 1 - 0x800); // U+0800..U+FFFF without the surrogates
}

TEST_CASE("4-byte sequences around every boundary are judged like the reference") {
  const int edges[] = {0x00, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  size_t mismatches = 0;
  for (int a = 0xF0; a <= 0xFF; ++a)
    for (int b = 0; b < 256; ++b)
      for (int c : edges)
        for (int d : edges) {
          std::string s{char(a), char(b), char(c), char(d)};
          bool ref = reference_utf8_valid(s);
          mismatches += utf8_validator::valid(s) != ref;
          for (size_t cut = 1; cut < 4; ++cut)
            mismatches += valid_in_two(s, cut) != ref;
        }
  CHECK(mismatches == 0);
  CHECK(utf8_validator::valid("\xf0\x90\x80\x80"));  // U+10000
  CHECK(utf8_validator::valid("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  CHECK_FALSE(utf8_validator::valid("\xf4\x90\x80\x80"));
}

TEST_CASE("long text: ASCII runs, a bad byte anywhere, and truncation") {
  std::string text;
  for (int i = 0; i < 50; ++i)
    text += "plain ascii words, then caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ";
  CHECK(utf8_validator::valid(text));
  for (size_t cut = 0; cut <= text.size(); cut += 7)
    CHECK(valid_in_two(text, cut));
  for (size_t at = 0; at < text.size(); at += 13) {
    auto bad = text;
    bad[at] = char(0xff);
    CHECK_FALSE(utf8_validator::valid(bad));
  }
  utf8_validator v;
  CHECK(v.feed(text.data(), text.size() - 1)); // cut inside the last code point... or not
  CHECK(v.complete() == reference_utf8_valid(text.substr(0, text.size() - 1)));
  CHECK(v.feed("\xff", 1) == false);
  CHECK(v.feed("a", 1) == false); // sticky
}
