#pragma once
// Google credential files for tests: a fresh RSA key made with OpenSSL, written as the service
// account key file Google's console downloads (token_uri pointing wherever the test says, e.g. at
// fakecloud's POST /token), and authorized-user files as gcloud writes them.

#include <string>

namespace skyd::testing {

struct TestServiceAccount {
  std::string client_email = "skyd-test@skyd-test-project.iam.gserviceaccount.com";
  std::string project_id = "skyd-test-project";
  std::string private_key_id;   // 40 hex digits, as Google's
  std::string private_key_pem;  // PKCS#8
  std::string token_uri = "https://oauth2.googleapis.com/token";

  // The key file's JSON (type, project_id, private_key_id, private_key, client_email, client_id,
  // auth_uri, token_uri, ...), as Google makes it.
  std::string key_file_json() const;
  // The same account with another token_uri.
  TestServiceAccount with_token_uri(std::string uri) const;
};

// A new service account with a fresh 2048-bit RSA key. Throws when OpenSSL fails.
TestServiceAccount make_test_service_account(
    std::string client_email = "skyd-test@skyd-test-project.iam.gserviceaccount.com");

struct TestAuthorizedUser {
  std::string client_id = "764086051850-skydtest.apps.googleusercontent.com";
  std::string client_secret = "d-FL95Q19q7MQmFpd7hHD0Ty";
  std::string refresh_token = "1//skyd-test-refresh-token";
  std::string token_uri;  // empty: left out of the file (Google's endpoint)

  std::string file_json() const;
};

// Writes `text` to `path`, readable by the owner only (as key files should be). Throws on failure.
void write_credentials_file(const std::string& path, const std::string& text);

}  // namespace skyd::testing
