// Fuzz target: the node's config reader (INI text -> validated settings). Whatever the
// text, it must answer a settings struct or one error line, never crash or hang.
#include "config/node_config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  chat::config::node_config cfg;
  std::string text(reinterpret_cast<const char*>(data), size);
  auto err = chat::config::apply_ini(cfg, text, "fuzz.conf");
  if (err.find('\n') != std::string::npos)
    std::abort(); // errors are one line
  return 0;
}
