#include "reactor/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <fstream>
#include <memory>
#include <stdexcept>

namespace skyd {

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("the system random generator failed");
  }
  return to_hex(raw);
}

std::string md5_raw(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr);
  std::string buffer(1u << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(context.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return {};
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context.get(), digest, &length);
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

namespace {
struct FreeMacContext {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
using MacContext = std::unique_ptr<EVP_MAC_CTX, FreeMacContext>;

MacContext make_hmac_sha256() {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) return nullptr;
  MacContext context(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", digest, 0),
                               OSSL_PARAM_construct_end()};
  if (!context || !EVP_MAC_CTX_set_params(context.get(), params)) return nullptr;
  return context;
}

// One HMAC-SHA256 context a thread, its MAC and digest looked up once. EVP_Q_mac looks both up by
// name on every call, under OpenSSL's global locks: a SigV4 signature is five HMACs, and each
// skylet call derives its token with one.
EVP_MAC_CTX* thread_hmac_sha256() {
  thread_local const MacContext context = make_hmac_sha256();
  return context.get();
}
}  // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  // An empty key takes the one-off path: given a null key, a context keeps the last call's, and
  // some OpenSSL 3.0 releases leak a context's empty key when it is replaced.
  EVP_MAC_CTX* context = key.empty() ? nullptr : thread_hmac_sha256();
  const bool made = context
                        ? EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(key.data()),
                                       key.size(), nullptr) &&
                              EVP_MAC_update(context, bytes, data.size()) &&
                              EVP_MAC_final(context, mac, &length, sizeof mac)
                        : EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, "", 0, bytes,
                                    data.size(), mac, sizeof mac, &length) != nullptr;
  if (!made) throw std::runtime_error("HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(mac), length);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  return to_hex(hmac_sha256(key, data));
}

}  // namespace skyd
