#include "reactor/signals.hpp"

#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <utility>

namespace skyd {

void ignore_broken_pipes() {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, nullptr);
}

Task<int> wait_for_stop_signal() {
  asio::signal_set signals(co_await asio::this_coro::executor, SIGTERM, SIGINT);
  co_return co_await signals.async_wait(asio::use_awaitable);
}

std::optional<NoticeSignal> parse_notice_signal(std::string_view name) {
  if (name.starts_with("SIG")) name.remove_prefix(3);
  static constexpr std::pair<std::string_view, int> kKnown[] = {
      {"TERM", SIGTERM}, {"INT", SIGINT}, {"HUP", SIGHUP}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}};
  for (const auto& [known, number] : kKnown)
    if (name == known) return NoticeSignal{std::string(known), number};
  return std::nullopt;
}

}  // namespace skyd
