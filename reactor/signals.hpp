#pragma once
// Waiting for the signals that stop a daemon (SIGTERM from systemd, SIGINT from a terminal), and
// the signals a task may be sent when its spot machine gets its notice.

#include "reactor/coro.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace skyd {

// A write to a peer that has gone (a closed socket or pipe) is then an error (EPIPE) its writer
// handles, never the silent end of the process that SIGPIPE's default is. Call before any
// thread starts; the processes skyd and skylet start get every signal's default back.
void ignore_broken_pipes();

// Completes with the signal number once SIGTERM or SIGINT arrives.
Task<int> wait_for_stop_signal();

// The signals a spot notice may be forwarded as: TERM, INT, HUP, USR1, USR2 ("SIG" prefix
// allowed). Returns the bare name and number; nullopt for anything else.
struct NoticeSignal {
  std::string name;
  int number = 0;
};
std::optional<NoticeSignal> parse_notice_signal(std::string_view name);
inline constexpr std::string_view kNoticeSignalNames = "TERM, INT, HUP, USR1 or USR2";

}  // namespace skyd
