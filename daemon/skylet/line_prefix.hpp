#pragma once
// Puts a prefix before every line of a stream of output that arrives in pieces cut anywhere: a
// multi-node task's lines carry their node as SkyPilot prints them, `(head, rank=0, pid=42) ...`,
// `(worker1, rank=1, pid=43, ip=10.0.0.2) ...`, `(setup pid=44) ...`.

#include <string>
#include <string_view>

namespace skyd::skylet {

class LinePrefixer {
 public:
  explicit LinePrefixer(std::string prefix) : prefix_(std::move(prefix)) {}

  // The piece with the prefix before each line that starts in it.
  std::string apply(std::string_view piece);

 private:
  std::string prefix_;
  bool at_line_start_ = true;
};

// "(head, rank=0, pid=42) ", "(worker1, rank=1, pid=43, ip=10.0.0.2) " for a run;
// "(setup pid=44) ", "(setup pid=44, ip=10.0.0.2) " for a setup. `label` is the node's
// ("head, rank=0,"), `ip` empty on the head (Ray, which SkyPilot's output comes from, names the
// address of the other nodes only).
std::string node_log_prefix(std::string_view label, long pid, std::string_view ip, bool is_setup);

}  // namespace skyd::skylet
