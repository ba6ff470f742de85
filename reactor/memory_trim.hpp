#pragma once
// Gives freed heap back to the system now and then. A burst (a thousand launches at once) frees
// far more than the steady state needs, and glibc keeps it: at 1,000 supervised jobs, ~38 MiB of
// skyd's RSS was memory already freed. malloc_trim runs on the blocking pool, never on a shard.

#include "reactor/coro.hpp"

namespace skyd {

// Until cancelled: every `every`, malloc_trim(0).
Task<void> trim_memory_periodically(Duration every);

}  // namespace skyd
