// Builds the precompiled header that every test executable reuses (tests/test_pch.hpp,
// tests/CMakeLists.txt); it holds no tests of its own.
