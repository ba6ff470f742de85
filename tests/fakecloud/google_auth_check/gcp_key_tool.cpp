// Google credential files and skyd-made JWTs for the google-auth-library cross-check
// (run_google_auth_check.sh):
//   gcp_key_tool service-account FILE [--email E] [--token-uri U]   a new key file (fresh RSA key)
//   gcp_key_tool authorized-user FILE [--token-uri U]               an authorized_user file
//   gcp_key_tool assertion FILE                                      prints the JWT skyd sends
#include "providers/gcp/gcp_auth.hpp"
#include "tests/support/gcp_keys.hpp"

#include <chrono>
#include <iostream>
#include <string>

namespace {

int usage() {
  std::cerr << "usage: gcp_key_tool service-account FILE [--email E] [--token-uri U]\n"
               "       gcp_key_tool authorized-user FILE [--token-uri U]\n"
               "       gcp_key_tool assertion FILE\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace skyd;
  if (argc < 3) return usage();
  const std::string command = argv[1], file = argv[2];
  std::string email, token_uri;
  for (int i = 3; i + 1 < argc; i += 2) {
    const std::string option = argv[i];
    if (option == "--email")
      email = argv[i + 1];
    else if (option == "--token-uri")
      token_uri = argv[i + 1];
    else
      return usage();
  }
  try {
    if (command == "service-account") {
      auto account = email.empty() ? testing::make_test_service_account()
                                   : testing::make_test_service_account(email);
      if (!token_uri.empty()) account.token_uri = token_uri;
      testing::write_credentials_file(file, account.key_file_json());
      return 0;
    }
    if (command == "authorized-user") {
      testing::TestAuthorizedUser user;
      user.token_uri = token_uri;
      testing::write_credentials_file(file, user.file_json());
      return 0;
    }
  } catch (const std::exception& error) {
    std::cerr << "gcp_key_tool: " << error.what() << "\n";
    return 1;
  }
  if (command != "assertion") return usage();
  auto parsed = providers::gcp::read_credentials_file(file);
  if (!parsed) {
    std::cerr << "gcp_key_tool: " << parsed.error().detail << "\n";
    return 1;
  }
  const auto* key = std::get_if<providers::gcp::ServiceAccountKey>(&*parsed);
  if (!key) {
    std::cerr << "gcp_key_tool: " << file << " is not a service account key\n";
    return 1;
  }
  auto rsa = providers::gcp::RsaKey::from_private_pem(key->private_key);
  auto assertion =
      rsa ? providers::gcp::service_account_assertion(*key, *rsa, std::chrono::system_clock::now())
          : Result<std::string>(rsa.error());
  if (!assertion) {
    std::cerr << "gcp_key_tool: " << assertion.error().detail << "\n";
    return 1;
  }
  std::cout << *assertion << "\n";
  return 0;
}
