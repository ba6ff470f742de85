#pragma once

#include <boost/system/result.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace skyd::sim {

// Availability traces record whether a spot instance could be obtained at each tick; preemption
// traces whether the instance held was still there. The replay reads both the same way: a 1 at
// a tick means a spot instance runs through that tick, a 0 that none does (not obtainable, or
// preempted and not yet re-acquired).
enum class TraceKind { kAvailability, kPreemption };

// One measured trace, reduced to what a job of `nodes` instances sees: spot is usable at a tick
// only when all of its nodes can be had (the paper's all-or-nothing rule for clusters).
struct SpotTrace {
  std::string name;  // "availability/1-node/aws-02-15-2023/us-east-1a_v100_1"
  TraceKind kind = TraceKind::kAvailability;
  int nodes = 1;
  std::int64_t tick_seconds = 0;   // the file's gap_seconds: it differs between files
  std::vector<std::uint8_t> spot;  // 1 = spot usable for the whole tick

  std::int64_t length_seconds() const {
    return tick_seconds * static_cast<std::int64_t>(spot.size());
  }
};

using TraceResult = boost::system::result<SpotTrace, std::string>;

// Reads {"metadata": {"gap_seconds": N}, "data": [...]}; the kind and node count come from the
// path below `root` (<kind>/<N>-node/<date>/<zone>.json).
TraceResult load_spot_trace(const std::filesystem::path& root, const std::filesystem::path& file);

struct TraceSet {
  std::vector<SpotTrace> traces;    // sorted by name
  std::vector<std::string> errors;  // files that could not be read, with why
};

// Every *.json under root. A missing root gives no traces and one error.
TraceSet load_trace_dir(const std::filesystem::path& root);

std::string to_string(TraceKind kind);

}  // namespace skyd::sim
