#include "tests/fakecloud/fake_gcp_tokens.hpp"

#include "reactor/crypto.hpp"

namespace skyd::fakecloud {

std::string FakeGcpTokens::issue(const std::string& account, Duration lifetime) {
  // Google's tokens start "ya29."; the prefix lets a test see a token was handed out here.
  std::string token = "ya29.fake-" + random_hex(24);
  std::lock_guard lock(mutex_);
  issued_[token] = Issued{account, Clock::now() + lifetime};
  return token;
}

std::optional<std::string> FakeGcpTokens::account_of(std::string_view token) const {
  std::lock_guard lock(mutex_);
  const auto found = issued_.find(token);
  if (found == issued_.end() || found->second.expires_at <= Clock::now()) return std::nullopt;
  return found->second.account;
}

void FakeGcpTokens::revoke_all() {
  std::lock_guard lock(mutex_);
  issued_.clear();
}

}  // namespace skyd::fakecloud
