#pragma once
// A process that holds a connection per node (skyd: two long polls per running node) needs more
// descriptors than the usual soft limit of 1024: it raises its soft limit to the hard one.

#include <cstdint>

namespace skyd {

struct DescriptorLimit {
  std::uint64_t before = 0;
  std::uint64_t now = 0;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit; what it was and what it is.
DescriptorLimit raise_descriptor_limit();

}  // namespace skyd
