#include "cli/submission.hpp"

#include "reactor/crypto.hpp"
#include "reactor/http_types.hpp"

#include <algorithm>
#include <iostream>
#include <thread>

namespace skyd::cli {
namespace {

constexpr Duration kFirstPause = std::chrono::milliseconds(500);
constexpr Duration kLongestPause = std::chrono::seconds(5);

// Why asking again may succeed, or nothing: an answer that says what is wrong is final, and so
// is a skyd that cannot be reached at all (not running, a host ssh does not reach).
std::optional<std::string> worth_asking_again(DaemonClient& client,
                                              const Result<http::Response>& reply) {
  if (reply) {
    if (reply->status != 503) return std::nullopt;
    return http::error_message_of(*reply);
  }
  const auto code = reply.error().code;
  if (code != NetErrc::kTimedOut && code != NetErrc::kClosed) return std::nullopt;
  if (!client.call("GET", "/v1/health", {}, std::chrono::seconds(10))) return std::nullopt;
  return "the answer was lost: " + code.message();
}

// skyd's Retry-After when it gave one, within our own bounds.
Duration pause_after(const Result<http::Response>& reply, Duration pause) {
  if (!reply) return pause;
  const std::string* said = reply->header("Retry-After");
  if (!said || said->empty() || said->find_first_not_of("0123456789") != std::string::npos)
    return pause;
  const Duration asked = std::chrono::seconds(std::stoll(said->substr(0, 4)));
  return std::clamp(asked, kFirstPause, kLongestPause);
}

}  // namespace

Result<Json> submit_jobs(DaemonClient& client, Json body, Duration patience) {
  body.set("submission_key", random_hex(16));
  const std::string sent = body.dump();
  const Clock::time_point give_up = Clock::now() + patience;
  Duration pause = kFirstPause;
  while (true) {
    auto reply = client.call("POST", "/v1/jobs", sent);
    const auto why = worth_asking_again(client, reply);
    if (!why || Clock::now() + pause >= give_up) {
      if (!reply) return reply.error();
      auto parsed = parse_json(reply->body);
      if (reply->status >= 400 || !parsed)
        return make_error(NetErrc::kProtocol, http::error_message_of(*reply));
      return parsed;
    }
    pause = pause_after(reply, pause);
    std::cerr << "The submission did not go through (" << *why << "); asking skyd again in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(pause).count()
              << " ms: it never makes a job twice.\n";
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, kLongestPause);
  }
}

}  // namespace skyd::cli
