#include "tests/support/gcp_keys.hpp"

#include "reactor/crypto.hpp"
#include "reactor/json.hpp"
#include "reactor/small_files.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <stdexcept>

namespace skyd::testing {
namespace {

std::string new_rsa_private_key_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!key || !bio ||
      !PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr))
    throw std::runtime_error("OpenSSL could not make an RSA key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

TestServiceAccount make_test_service_account(std::string client_email) {
  TestServiceAccount account;
  account.client_email = std::move(client_email);
  account.private_key_id = random_hex(20);
  account.private_key_pem = new_rsa_private_key_pem();
  return account;
}

TestServiceAccount TestServiceAccount::with_token_uri(std::string uri) const {
  TestServiceAccount copy = *this;
  copy.token_uri = std::move(uri);
  return copy;
}

std::string TestServiceAccount::key_file_json() const {
  Json json = Json::object();
  json.set("type", "service_account");
  json.set("project_id", project_id);
  json.set("private_key_id", private_key_id);
  json.set("private_key", private_key_pem);
  json.set("client_email", client_email);
  json.set("client_id", "100000000000000000001");
  json.set("auth_uri", "https://accounts.google.com/o/oauth2/auth");
  json.set("token_uri", token_uri);
  json.set("auth_provider_x509_cert_url", "https://www.googleapis.com/oauth2/v1/certs");
  json.set("client_x509_cert_url",
           "https://www.googleapis.com/robot/v1/metadata/x509/" + client_email);
  json.set("universe_domain", "googleapis.com");
  return json.dump();
}

std::string TestAuthorizedUser::file_json() const {
  Json json = Json::object();
  json.set("account", "");
  json.set("client_id", client_id);
  json.set("client_secret", client_secret);
  json.set("refresh_token", refresh_token);
  if (!token_uri.empty()) json.set("token_uri", token_uri);
  json.set("type", "authorized_user");
  json.set("universe_domain", "googleapis.com");
  return json.dump();
}

void write_credentials_file(const std::string& path, const std::string& text) {
  if (auto written = write_small_file(path, text); !written)
    throw std::runtime_error(written.error().message());
}

}  // namespace skyd::testing
