// Unit tests for key_ring: key file parsing and its error messages, sealing, rotation.
#include "storage/key_ring.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using chat::storage::key_error;
using chat::storage::key_ring;

namespace {

const std::string key_a(64, 'a');
const std::string key_b = "0123456789abcdefABCDEF0123456789abcdef0123456789abcdef0123456789";

// Parses `text` and returns the error message, or "" when it parsed.
std::string parse_error(const std::string& text) {
  try {
    key_ring::parse(text, "keys.txt");
    return "";
  } catch (const key_error& e) {
    return e.what();
  }
}

} // namespace

TEST_CASE("generate_line makes a loadable key line", "[key_ring]") {
  auto line = key_ring::generate_line(7);
  REQUIRE(line.size() == 2 + 64);
  CHECK(line.rfind("7 ", 0) == 0);
  CHECK(line.find_first_not_of("0123456789abcdef", 2) == std::string::npos);
  CHECK(key_ring::generate_line(7) != line);
  auto ring = key_ring::parse(line + "\n", "gen");
  CHECK(ring.size() == 1);
  CHECK(ring.current_id() == 7);
  CHECK_THROWS_AS(key_ring::generate_line(0), key_error);
}

TEST_CASE("load reads a key file with comments and blank lines", "[key_ring]") {
  auto path = std::filesystem::temp_directory_path() /
              ("key_ring_test_" + std::to_string(::getpid()) + ".keys");
  {
    std::ofstream out(path);
    out << "# chat keys\n; another comment\n\n  2 " << key_b << "  \r\n1\t" << key_a << "\n";
  }
  auto ring = key_ring::load(path.string());
  std::filesystem::remove(path);
  CHECK(ring.size() == 2);
  CHECK(ring.has(1));
  CHECK(ring.has(2));
  CHECK(ring.current_id() == 2);
}

TEST_CASE("bad key files give one clear line naming file and line", "[key_ring]") {
  SECTION("missing file") {
    try {
      key_ring::load("/nonexistent/dir/chat.keys");
      FAIL("no exception");
    } catch (const key_error& e) {
      CHECK(std::string(e.what()) ==
            "key file /nonexistent/dir/chat.keys: cannot open: No such file or directory");
    }
  }
  SECTION("no keys") {
    CHECK(parse_error("") == "key file keys.txt: no keys");
    CHECK(parse_error("# only a comment\n\n") == "key file keys.txt: no keys");
  }
  SECTION("missing key") {
    CHECK(parse_error("# c\n1\n") ==
          "key file keys.txt: line 2: expected '<id> <64 hex chars>'");
  }
  SECTION("bad id") {
    auto msg = "key file keys.txt: line 1: key id must be a positive integer";
    CHECK(parse_error("0 " + key_a) == msg);
    CHECK(parse_error("-1 " + key_a) == msg);
    CHECK(parse_error("x1 " + key_a) == msg);
    CHECK(parse_error("4294967296 " + key_a) == msg);
    CHECK(parse_error("4294967295 " + key_a).empty());
  }
  SECTION("bad hex") {
    CHECK(parse_error("1 " + std::string(63, 'a') + "g") ==
          "key file keys.txt: line 1: key is not valid hex");
  }
  SECTION("wrong length") {
    CHECK(parse_error("1 abcd") ==
          "key file keys.txt: line 1: key must be exactly 64 hex chars, got 4");
    CHECK(parse_error("1 " + key_a + " extra") ==
          "key file keys.txt: line 1: key must be exactly 64 hex chars, got 70");
  }
  SECTION("duplicate id") {
    CHECK(parse_error("1 " + key_a + "\n2 " + key_b + "\n1 " + key_b + "\n") ==
          "key file keys.txt: line 3: duplicate key id 1");
  }
}

TEST_CASE("encrypt and decrypt round-trip, bound to associated data", "[key_ring]") {
  auto ring = key_ring::parse("1 " + key_a, "k");
  auto ad = key_ring::message_ad("room", 5);
  auto sealed = ring.encrypt("hello world", ad);
  CHECK(sealed.key_id == 1);
  CHECK(sealed.blob.size() == 24 + 11 + 16);
  CHECK(sealed.blob.find("hello") == std::string::npos);
  CHECK(ring.decrypt(1, sealed.blob, ad) == "hello world");
  CHECK(ring.encrypt("hello world", ad).blob != sealed.blob); // fresh nonce

  CHECK_THROWS_AS(ring.decrypt(1, sealed.blob, key_ring::message_ad("room", 6)), key_error);
  CHECK_THROWS_AS(ring.decrypt(1, sealed.blob, key_ring::message_ad("room2", 5)), key_error);
  CHECK_THROWS_AS(ring.decrypt(1, sealed.blob), key_error);
  CHECK_THROWS_AS(ring.decrypt(2, sealed.blob, ad), key_error);
  CHECK_THROWS_AS(ring.decrypt(1, "short", ad), key_error);
  auto tampered = sealed.blob;
  tampered[30] ^= 1;
  CHECK_THROWS_WITH(ring.decrypt(1, tampered, ad),
                    "decryption failed with key id 1 (wrong key or tampered data)");
  CHECK_THROWS_WITH(ring.decrypt(9, sealed.blob, ad),
                    "unknown key id 9 (not in the key file)");

  auto empty = ring.encrypt("", ad);
  CHECK(ring.decrypt(1, empty.blob, ad).empty());
}

TEST_CASE("the highest id encrypts, every id decrypts", "[key_ring]") {
  auto old_ring = key_ring::parse("1 " + key_a, "k");
  auto new_ring = key_ring::parse("2 " + key_b + "\n1 " + key_a, "k");
  auto by_old = old_ring.encrypt("old", "ad");
  auto by_new = new_ring.encrypt("new", "ad");
  CHECK(by_new.key_id == 2);
  CHECK(new_ring.decrypt(1, by_old.blob, "ad") == "old");
  CHECK(new_ring.decrypt(2, by_new.blob, "ad") == "new");
  CHECK_THROWS_AS(old_ring.decrypt(2, by_new.blob, "ad"), key_error);
}

TEST_CASE("message_ad is unambiguous", "[key_ring]") {
  CHECK(key_ring::message_ad("a", 1) != key_ring::message_ad("a", 2));
  CHECK(key_ring::message_ad("a", 0x100) != key_ring::message_ad("a\x01", 0));
  CHECK(key_ring::message_ad("ab", 1) != key_ring::message_ad("a", 1));
}
