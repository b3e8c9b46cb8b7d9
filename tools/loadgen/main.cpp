// chat-loadgen entry point: parse options, raise the open-file limit, run.
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>

#include "options.hpp"
#include "run.hpp"

namespace {

// Raises RLIMIT_NOFILE to its hard limit; false (with a message) when `needed`
// descriptors still do not fit.
bool raise_file_limit(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    std::cerr << "chat-loadgen: getrlimit: " << std::strerror(errno) << "\n";
    return false;
  }
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0)
      std::cerr << "chat-loadgen: warning: setrlimit: " << std::strerror(errno) << "\n";
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
    std::cerr << "chat-loadgen: " << needed << " file descriptors needed, RLIMIT_NOFILE allows "
              << limit.rlim_cur << " (raise the hard limit, e.g. ulimit -Hn)\n";
    return false;
  }
  return true;
}

} // namespace

int main(int argc, char** argv) {
  chat::loadgen::options o;
  if (auto exit_code = chat::loadgen::parse_options(argc, argv, o))
    return *exit_code;
  if (!raise_file_limit(static_cast<rlim_t>(o.conns) + 64))
    return 1;
  try {
    return chat::loadgen::run(o);
  } catch (const std::exception& e) {
    std::cerr << "chat-loadgen: " << e.what() << "\n";
    return 1;
  }
}
