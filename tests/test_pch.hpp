// The precompiled header of the test executables (tests/CMakeLists.txt): the headers that
// most test files include, parsed once per build instead of once per test file. Each test
// file still includes what it uses; this list only makes that cheaper.
#pragma once

#include <catch2/catch.hpp>
#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
