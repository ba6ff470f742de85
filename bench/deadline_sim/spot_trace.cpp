#include "bench/deadline_sim/spot_trace.hpp"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace skyd::sim {
namespace fs = std::filesystem;
namespace {

// "16-node" -> 16; anything else is not a node-count folder.
int node_count_of(const std::string& folder) {
  int nodes = 0;
  const auto end = folder.data() + folder.size();
  const auto [rest, error] = std::from_chars(folder.data(), end, nodes);
  if (error != std::errc{} || std::string_view(rest, end - rest) != "-node" || nodes < 1) return 0;
  return nodes;
}

}  // namespace

TraceResult load_spot_trace(const fs::path& root, const fs::path& file) {
  const auto relative = fs::relative(file, root);
  auto failed = [&](const std::string& why) {
    return TraceResult(boost::system::in_place_error, relative.string() + ": " + why);
  };
  std::vector<std::string> parts;
  for (const auto& part : relative) parts.push_back(part.string());
  if (parts.size() < 3) return failed("expected <kind>/<N>-node/.../<trace>.json");

  SpotTrace trace;
  trace.name = relative.parent_path().string() + "/" + relative.stem().string();
  if (parts[0] == "availability") {
    trace.kind = TraceKind::kAvailability;
  } else if (parts[0] == "preemption") {
    trace.kind = TraceKind::kPreemption;
  } else {
    return failed("unknown trace kind " + parts[0]);
  }
  trace.nodes = node_count_of(parts[1]);
  if (trace.nodes == 0) return failed("expected a <N>-node folder");

  simdjson::padded_string json;
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::array data;
  if (auto error = simdjson::padded_string::load(file.string()).get(json))
    return failed(simdjson::error_message(error));
  if (auto error = parser.iterate(json).get(doc)) return failed(simdjson::error_message(error));
  if (auto error = doc["metadata"]["gap_seconds"].get_int64().get(trace.tick_seconds))
    return failed(std::string("metadata.gap_seconds: ") + simdjson::error_message(error));
  if (trace.tick_seconds <= 0) return failed("metadata.gap_seconds must be positive");
  if (auto error = doc["data"].get_array().get(data))
    return failed(std::string("data: ") + simdjson::error_message(error));
  for (auto value : data) {
    std::int64_t count = 0;
    if (auto error = value.get_int64().get(count))
      return failed("data[" + std::to_string(trace.spot.size()) +
                    "]: " + simdjson::error_message(error));
    trace.spot.push_back(count >= trace.nodes ? 1 : 0);
  }
  if (trace.spot.empty()) return failed("no data");
  return trace;
}

TraceSet load_trace_dir(const fs::path& root) {
  TraceSet set;
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    set.errors.push_back("no trace directory at " + root.string());
    return set;
  }
  for (const auto& entry : fs::recursive_directory_iterator(root, error)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    auto trace = load_spot_trace(root, entry.path());
    if (trace) {
      set.traces.push_back(std::move(*trace));
    } else {
      set.errors.push_back(trace.error());
    }
  }
  std::sort(set.traces.begin(), set.traces.end(),
            [](const SpotTrace& a, const SpotTrace& b) { return a.name < b.name; });
  return set;
}

std::string to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::kAvailability:
      return "availability";
    case TraceKind::kPreemption:
      return "preemption";
  }
  return "unknown";
}

}  // namespace skyd::sim
