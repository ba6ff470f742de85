#pragma once
// skylet's loopback OAuth token endpoint for rclone's GCS backend. rclone 1.60 cannot read the GCE
// metadata server by itself (its GCS backend has no env_auth), so each GCS mount is given an
// expired token whose refresh token is this relay's secret and whose token URL is this relay:
// rclone POSTs the refresh grant (form: grant_type=refresh_token, refresh_token=SECRET) whenever
// it needs a token, and the relay answers with the VM's service-account token from the metadata
// server (instance/service-accounts/default/token), which renews it as Google's libraries do.
// Only a caller holding the secret gets a token; tokens and the secret never reach a log.
//
// Lives on skylet's shard for the process's lifetime; listens on 127.0.0.1 (port chosen by the
// kernel).

#include "providers/gcp/gcp_auth.hpp"
#include "reactor/http_client.hpp"
#include "reactor/http_server.hpp"

#include <memory>
#include <string>

namespace skyd::skylet {

// The answer to one POST /token: 200 with {"access_token","token_type","expires_in"}, 400
// invalid_grant for a wrong grant or secret, 503 when the token source failed (rclone retries).
Task<http::Response> relay_token(const http::Request& request, const std::string& secret,
                                 providers::gcp::AccessTokenSource& tokens);

class GcsTokenRelay {
 public:
  // Tokens from the metadata server at `metadata_url` (skylet's --metadata-url).
  static Result<std::unique_ptr<GcsTokenRelay>> start(asio::any_io_executor executor,
                                                      const std::string& metadata_url);
  ~GcsTokenRelay();

  // http://127.0.0.1:PORT/token
  const std::string& url() const { return url_; }
  const std::string& secret() const { return secret_; }  // never logged
  Task<void> stop();

 private:
  GcsTokenRelay() = default;
  std::unique_ptr<http::Client> client_;
  std::shared_ptr<providers::gcp::AccessTokenSource> tokens_;
  std::unique_ptr<http::Server> server_;
  std::string url_;
  std::string secret_;
};

}  // namespace skyd::skylet
