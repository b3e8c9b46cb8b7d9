// fork/exec of chatd, reading its stdout until both "listening" lines appear.
#include "support/node_process.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace chat::test {

namespace {

// Temporary directories and chatd stderr files this test process made; removed when it
// exits unless CHAT_TEST_KEEP is set (to look at them after a failure).
class temp_paths {
public:
  void add(std::string path) {
    std::lock_guard<std::mutex> guard(mu_);
    paths_.push_back(std::move(path));
  }
  ~temp_paths() {
    if (std::getenv("CHAT_TEST_KEEP"))
      return;
    for (const auto& p : paths_) {
      std::error_code ignored;
      std::filesystem::remove_all(p, ignored);
    }
  }

private:
  std::mutex mu_;
  std::vector<std::string> paths_;
};

temp_paths& temps() {
  static temp_paths paths;
  return paths;
}

} // namespace

std::string make_temp_dir() {
  char tmpl[] = "/tmp/chat-test-XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  temps().add(tmpl);
  return tmpl;
}

namespace {

pid_t spawn(const std::vector<std::string>& args, int out_fd, int err_fd,
            uint64_t open_files = 0) {
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (open_files > 0) {
      rlimit lim{open_files, open_files};
      if (setrlimit(RLIMIT_NOFILE, &lim) != 0)
        _exit(126);
    }
    std::vector<char*> argv;
    std::string bin = CHATD_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid, int timeout_s) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

} // namespace

node_process::node_process(std::vector<std::string> args, std::string data_dir,
                           uint64_t open_files)
  : data_dir_(data_dir.empty() ? make_temp_dir() : data_dir) {
  std::vector<std::string> full = {"--config-file=" + std::string(CHAT_SOURCE_DIR)
                                     + "/tests/support/test-node.conf",
                                   "--net.port=0", "--admin.port=0",
                                   "--storage.path=" + data_dir_};
  full.insert(full.end(), args.begin(), args.end());
  int out[2];
  if (pipe(out) != 0)
    throw std::runtime_error("pipe failed");
  stderr_path_ = data_dir_ + ".stderr";
  temps().add(stderr_path_);
  int err_fd = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_ = spawn(full, out[1], err_fd, open_files);
  close(out[1]);
  close(err_fd);
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((port_ == 0 || admin_port_ == 0) && std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
    char buf[512];
    auto n = read(out[0], buf, sizeof(buf));
    if (n <= 0)
      break;
    text.append(buf, size_t(n));
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      auto parse = [&](const std::string& prefix, uint16_t& port) {
        if (line.rfind(prefix, 0) == 0)
          port = uint16_t(std::stoi(line.substr(line.rfind(':') + 1)));
      };
      parse("listening ws=", port_);
      parse("listening admin=", admin_port_);
    }
  }
  close(out[0]);
  if (port_ == 0 || admin_port_ == 0) {
    kill9();
    throw std::runtime_error("chatd did not start: " + stderr_text());
  }
}

node_process::~node_process() {
  if (pid_ > 0)
    kill9();
}

int node_process::stop() {
  if (pid_ <= 0)
    return -1;
  kill(pid_, SIGTERM);
  int rc = wait_exit(pid_, 20);
  pid_ = -1;
  return rc;
}

void node_process::kill9() {
  if (pid_ <= 0)
    return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string node_process::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int run_chatd(const std::vector<std::string>& args, std::string& output, int timeout_s) {
  auto dir = make_temp_dir();
  auto path = dir + "/out.txt";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = spawn(args, fd, fd);
  close(fd);
  int rc = wait_exit(pid, timeout_s);
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  output = s.str();
  return rc;
}

} // namespace chat::test
