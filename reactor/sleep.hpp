#pragma once
// A pause of the calling coroutine on its own executor. A cancellation ends it early by throwing
// (as any use_awaitable wait does), so a loop built on it stops when its task is cancelled.

#include "reactor/coro.hpp"

namespace skyd {

Task<void> sleep_for(Duration delay);

}  // namespace skyd
