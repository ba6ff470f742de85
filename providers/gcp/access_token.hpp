#pragma once
// Where the GCP provider and the GCS store get the OAuth 2.0 access token they send as
// `Authorization: Bearer …`. Application Default Credentials (gcp_auth.hpp) implement it; a test
// may hand a fixed token.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <string>

namespace skyd::providers::gcp {

struct AccessToken {
  std::string value;             // never logged
  Clock::time_point expires_at;  // on this process's steady clock
};

class AccessTokenSource {
 public:
  virtual ~AccessTokenSource() = default;
  // A token valid for at least a minute more; kAuth (ProviderErrc) with the reason when none can
  // be had, kTransient when the token's source failed for now (5xx, unreachable). Cached: most
  // calls return at once.
  virtual Task<Result<AccessToken>> token() = 0;
  // The last token was refused (401): the next call fetches a new one.
  virtual void invalidate() = 0;
};

// A token that never changes (tests; `gcp_access_token` in a trusted config).
class FixedAccessToken final : public AccessTokenSource {
 public:
  explicit FixedAccessToken(std::string value) : value_(std::move(value)) {}
  Task<Result<AccessToken>> token() override {
    co_return AccessToken{value_, Clock::time_point::max()};
  }
  void invalidate() override {}

 private:
  std::string value_;
};

}  // namespace skyd::providers::gcp
