// The one error type of chatctl: a complete one-line message for the user (exit code 1).
#pragma once

#include <stdexcept>
#include <string>

namespace chat::chatctl {

struct chatctl_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

} // namespace chat::chatctl
