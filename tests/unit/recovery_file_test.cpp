// Unit: recovery files round-trip every field, plain and sealed (no plaintext on disk),
// list oldest first, and a damaged file or a missing key is an error, never a short read.
#include "storage/recovery_file.hpp"

#include "tests/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

using namespace chat::storage;
namespace fs = std::filesystem;
using chat::test::temp_dir;

namespace {

std::vector<stored_message> sample() {
  return {{"room", 1, "alice", "c1", "SECRET-TEXT-one", 1000},
          {"r\xc3\xa9", 2, "bob", "", std::string("bin\0ary", 7), -5},
          {"room", 3, "alice", "c3", std::string(70000, 'z'), 1002}};
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void check_same(const std::vector<stored_message>& a, const std::vector<stored_message>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].room == b[i].room);
    CHECK(a[i].seq == b[i].seq);
    CHECK(a[i].user == b[i].user);
    CHECK(a[i].cid == b[i].cid);
    CHECK(a[i].text == b[i].text);
    CHECK(a[i].ts_ms == b[i].ts_ms);
  }
}

} // namespace

TEST_CASE("recovery files round-trip, plain and sealed") {
  temp_dir dir;
  auto plain = write_recovery(dir.str(), sample(), nullptr);
  CHECK(recovery_key_id(plain) == 0);
  check_same(read_recovery(plain, nullptr), sample());
  CHECK(bytes_of(plain).find("SECRET-TEXT-one") != std::string::npos);

  auto ring = key_ring::parse("4 " + std::string(64, 'a') + "\n", "test");
  auto sealed = write_recovery(dir.path.string(), sample(), &ring);
  CHECK(recovery_key_id(sealed) == 4);
  CHECK(bytes_of(sealed).find("SECRET-TEXT-one") == std::string::npos);
  check_same(read_recovery(sealed, &ring), sample());
  CHECK_THROWS_AS(read_recovery(sealed, nullptr), key_error);
  auto other = key_ring::parse("5 " + std::string(64, 'b') + "\n", "test");
  CHECK_THROWS_AS(read_recovery(sealed, &other), key_error);

  auto files = recovery_files(dir.path.string());
  REQUIRE(files.size() == 2);
  CHECK(files[0] == plain);
  CHECK(files[1] == sealed);
  CHECK(recovery_files((dir.path / "none").string()).empty());
}

TEST_CASE("a damaged recovery file is an error") {
  temp_dir dir;
  auto path = write_recovery(dir.path.string(), sample(), nullptr);
  auto bytes = bytes_of(path);
  auto rewrite = [&](const std::string& b) { std::ofstream(path, std::ios::binary) << b; };
  rewrite(bytes.substr(0, bytes.size() - 1));
  CHECK_THROWS_AS(read_recovery(path, nullptr), recovery_error);
  rewrite(bytes + "x");
  CHECK_THROWS_AS(read_recovery(path, nullptr), recovery_error);
  rewrite("NOTRECOV" + bytes.substr(8));
  CHECK_THROWS_AS(read_recovery(path, nullptr), recovery_error);
  // A message count far beyond what the payload can hold.
  auto huge = bytes;
  for (size_t i = 0; i < 8; ++i)
    huge[20 + i] = char(0xff);
  rewrite(huge);
  CHECK_THROWS_AS(read_recovery(path, nullptr), recovery_error);
  rewrite(bytes);
  check_same(read_recovery(path, nullptr), sample());
}
