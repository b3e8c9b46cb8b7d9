// Recovery file format (little-endian): "CHATREC1", u32 key id (0: plain), u64 payload
// length, payload. The payload is u64 count, then per message: u64 seq, i64 ts, and
// u32-length-prefixed room, user, cid, text; sealed as one blob when the key id is not 0.
#include "storage/recovery_file.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace chat::storage {

namespace {

constexpr char magic[8] = {'C', 'H', 'A', 'T', 'R', 'E', 'C', '1'};
constexpr const char* prefix = "recovery-";
constexpr const char* suffix = ".chat";
constexpr std::string_view seal_ad = "chat-recovery-v1";

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void put_str(std::string& out, const std::string& s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// Reads fields from a byte range; every read checks the length first.
class reader {
public:
  reader(std::string_view data, const std::string& path) : data_(data), path_(path) {}
  uint64_t u64() { return number(8); }
  uint32_t u32() { return static_cast<uint32_t>(number(4)); }
  std::string str() {
    auto n = u32();
    return std::string(take(n));
  }
  std::string_view take(size_t n) {
    if (n > data_.size())
      throw recovery_error("recovery file " + path_ + ": truncated");
    auto out = data_.substr(0, n);
    data_.remove_prefix(n);
    return out;
  }
  size_t left() const { return data_.size(); }

private:
  uint64_t number(size_t bytes) {
    auto b = take(bytes);
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i)
      v |= uint64_t(uint8_t(b[i])) << (8 * i);
    return v;
  }
  std::string_view data_;
  const std::string& path_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw recovery_error("recovery file " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The header's key id and the payload of a file's bytes.
std::pair<uint32_t, std::string_view> split(const std::string& bytes, const std::string& path) {
  reader r(bytes, path);
  if (r.take(sizeof magic) != std::string_view(magic, sizeof magic))
    throw recovery_error("recovery file " + path + ": not a recovery file");
  auto key_id = r.u32();
  auto length = r.u64();
  auto payload = r.take(static_cast<size_t>(std::min<uint64_t>(length, SIZE_MAX)));
  if (r.left() != 0)
    throw recovery_error("recovery file " + path + ": trailing bytes");
  return {key_id, payload};
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw recovery_error("recovery file " + path + ": write failed: " + std::strerror(errno));
    done += size_t(n);
  }
}

} // namespace

std::string write_recovery(const std::string& dir, const std::vector<stored_message>& messages,
                           const key_ring* keys) {
  std::string payload;
  put_u64(payload, messages.size());
  for (const auto& m : messages) {
    put_u64(payload, m.seq);
    put_u64(payload, static_cast<uint64_t>(m.ts_ms));
    put_str(payload, m.room);
    put_str(payload, m.user);
    put_str(payload, m.cid);
    put_str(payload, m.text);
  }
  uint32_t key_id = 0;
  if (keys) {
    auto sealed = keys->encrypt(payload, seal_ad);
    key_id = sealed.key_id;
    payload = std::move(sealed.blob);
  }
  std::string bytes(magic, sizeof magic);
  put_u32(bytes, key_id);
  put_u64(bytes, payload.size());
  bytes += payload;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  auto path = (std::filesystem::path(dir) / (prefix + std::to_string(ms) + suffix)).string();
  for (int n = 1; std::filesystem::exists(path); ++n)
    path = (std::filesystem::path(dir)
            / (prefix + std::to_string(ms) + "-" + std::to_string(n) + suffix))
             .string();
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw recovery_error("recovery file " + tmp + ": cannot create: " + std::strerror(errno));
  try {
    write_all(fd, bytes, tmp);
    if (::fsync(fd) != 0)
      throw recovery_error("recovery file " + tmp + ": fsync failed: " + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto why = std::string(std::strerror(errno));
    ::unlink(tmp.c_str());
    throw recovery_error("recovery file " + path + ": rename failed: " + why);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return path;
}

std::vector<std::string> recovery_files(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    auto name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.size() > std::strlen(suffix)
        && name.compare(name.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
      out.push_back(it->path().string());
  }
  // Names carry the time in ms; order by length first so 10^12 sorts after 9*10^11.
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  return out;
}

uint32_t recovery_key_id(const std::string& path) {
  auto bytes = file_bytes(path);
  return split(bytes, path).first;
}

std::vector<stored_message> read_recovery(const std::string& path, const key_ring* keys) {
  auto bytes = file_bytes(path);
  auto [key_id, payload] = split(bytes, path);
  std::string plain;
  if (key_id != 0) {
    if (!keys)
      throw key_error("recovery file " + path + " is encrypted (key id " +
                      std::to_string(key_id) + ") but no key file is configured");
    plain = keys->decrypt(key_id, payload, seal_ad);
    payload = plain;
  }
  reader r(payload, path);
  auto count = r.u64();
  // Each message takes at least 32 bytes: a count beyond that is a corrupt file.
  if (count > r.left() / 32)
    throw recovery_error("recovery file " + path + ": bad message count");
  std::vector<stored_message> out;
  out.reserve(static_cast<size_t>(count));
  for (uint64_t i = 0; i < count; ++i) {
    stored_message m;
    m.seq = r.u64();
    m.ts_ms = static_cast<int64_t>(r.u64());
    m.room = r.str();
    m.user = r.str();
    m.cid = r.str();
    m.text = r.str();
    out.push_back(std::move(m));
  }
  if (r.left() != 0)
    throw recovery_error("recovery file " + path + ": trailing bytes");
  return out;
}

} // namespace chat::storage
