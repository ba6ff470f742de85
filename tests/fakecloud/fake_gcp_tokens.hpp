#pragma once
// The OAuth 2.0 access tokens fakecloud's Google side hands out (its token endpoint, the metadata
// server's service-account token) and accepts (`Authorization: Bearer …` on Compute Engine and
// Cloud Storage calls). Tokens are random, carry their service account and expire.

#include "reactor/coro.hpp"

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace skyd::fakecloud {

class FakeGcpTokens {
 public:
  // A new token for `account` (a service account's email) valid for `lifetime`.
  std::string issue(const std::string& account, Duration lifetime = std::chrono::hours(1));
  // The account of a valid, unexpired token; nullopt for an unknown or expired one.
  std::optional<std::string> account_of(std::string_view token) const;
  // Every token stops working (tests of a refused token).
  void revoke_all();

 private:
  struct Issued {
    std::string account;
    Clock::time_point expires_at;
  };
  mutable std::mutex mutex_;
  std::map<std::string, Issued, std::less<>> issued_;
};

}  // namespace skyd::fakecloud
