#pragma once
// Waiting for the signals that stop a daemon (SIGTERM from systemd, SIGINT from a terminal).

#include "reactor/coro.hpp"

namespace skyd {

// Completes with the signal number once SIGTERM or SIGINT arrives.
Task<int> wait_for_stop_signal();

}  // namespace skyd
