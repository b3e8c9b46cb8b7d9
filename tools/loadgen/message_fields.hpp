// What the load generator writes into the text and cid of its messages, and reading it
// back: the text carries the scheduled send time, the cid the run and the message number.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::loadgen {

// "t=<due_ns>" padded with 'x' to `size` bytes (longer when size is too small for it).
void write_stamp(std::string& out, int64_t due_ns, std::size_t size);
std::optional<int64_t> read_stamp(std::string_view text);

// "<run>-<k>": unique per sender within a run, and across runs thanks to the run id, so a
// server that remembers cids never takes a new message for a repeat.
void write_cid(std::string& out, std::string_view run, uint64_t k);
// The k of a cid of this run, nothing for a cid of another run.
std::optional<uint64_t> read_cid(std::string_view cid, std::string_view run);

// A short id that differs between runs.
std::string make_run_id();

} // namespace chat::loadgen
