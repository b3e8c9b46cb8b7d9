// Starts a real chatd process on free ports for end-to-end tests and stops it.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace chat::test {

class node_process {
public:
  // Starts chatd with --net.port=0 --admin.port=0 --storage.path=<data_dir> plus `args`,
  // in `workdir` (default: a new temporary directory), and waits for its listening lines.
  // `open_files` > 0 sets the process's descriptor limit (RLIMIT_NOFILE) to it.
  explicit node_process(std::vector<std::string> args = {}, std::string data_dir = "",
                        uint64_t open_files = 0);
  ~node_process();

  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return pid_; }

  // SIGTERM and wait (up to 20 s); returns the exit status (or -1 on timeout / signal).
  int stop();
  // SIGKILL and wait.
  void kill9();
  bool running() const { return pid_ > 0; }
  // What the process wrote to stderr so far (for failure messages).
  std::string stderr_text() const;

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  std::string data_dir_;
  std::string stderr_path_;
};

// Runs chatd with `args` to completion (for config errors); returns exit code, fills output.
int run_chatd(const std::vector<std::string>& args, std::string& output, int timeout_s = 20);

std::string make_temp_dir();

} // namespace chat::test
