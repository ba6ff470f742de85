#include "providers/gcp/jwt.hpp"

#include "providers/provider.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace skyd::providers::gcp {

struct RsaKey::Key {
  EVP_PKEY* pkey = nullptr;
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int decoded_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// The first reason on OpenSSL's error queue (which is cleared), for a message about a key.
std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  const char* reason = code ? ERR_reason_error_string(code) : nullptr;
  return reason ? reason : "not a PEM key";
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

Bio memory_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

Result<std::shared_ptr<const RsaKey::Key>> checked_rsa(EVP_PKEY* pkey, const char* what) {
  if (!pkey) return make_error(ProviderErrc::kAuth, std::string(what) + ": " + openssl_reason());
  auto key = std::make_shared<RsaKey::Key>();
  key->pkey = pkey;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
    return make_error(ProviderErrc::kAuth, std::string(what) + ": not an RSA key");
  return std::shared_ptr<const RsaKey::Key>(std::move(key));
}

Result<Json> decode_json_part(std::string_view part, const char* name) {
  auto bytes = base64url_decode(part);
  if (!bytes)
    return make_error(ProviderErrc::kAuth, std::string("JWT ") + name + " is not base64url");
  auto json = parse_json(*bytes);
  if (!json || !json->is_object())
    return make_error(ProviderErrc::kAuth, std::string("JWT ") + name + " is not a JSON object");
  return std::move(*json);
}

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int value = decoded_value(c);
    if (value < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

Result<RsaKey> RsaKey::from_private_pem(std::string_view pem) {
  Bio bio = memory_bio(pem);
  auto key = checked_rsa(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                         "unreadable private key");
  if (!key) return key.error();
  return RsaKey(std::move(*key), true);
}

Result<RsaKey> RsaKey::from_public_pem(std::string_view pem) {
  Bio bio = memory_bio(pem);
  auto key = checked_rsa(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr),
                         "unreadable public key");
  if (!key) return key.error();
  return RsaKey(std::move(*key), false);
}

int RsaKey::bits() const {
  return key_ ? EVP_PKEY_get_bits(key_->pkey) : 0;
}

std::string RsaKey::public_pem() const {
  if (!key_) return {};
  Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!PEM_write_bio_PUBKEY(bio.get(), key_->pkey)) return {};
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<std::string> RsaKey::sign_rs256(std::string_view data) const {
  if (!key_ || !can_sign_) return make_error(ProviderErrc::kAuth, "this RSA key cannot sign");
  MdContext context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  std::size_t length = 0;
  if (EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return make_error(ProviderErrc::kAuth, "RS256 signing failed: " + openssl_reason());
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return make_error(ProviderErrc::kAuth, "RS256 signing failed: " + openssl_reason());
  }
  signature.resize(length);
  return signature;
}

bool RsaKey::verify_rs256(std::string_view data, std::string_view signature) const {
  if (!key_) return false;
  MdContext context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const bool valid =
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key_->pkey) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) == 1;
  ERR_clear_error();  // a refused signature leaves its reason on the queue
  return valid;
}

Result<std::string> sign_jwt(const JwtClaims& claims, const RsaKey& key, std::string_view key_id) {
  Json header = Json::object();
  header.set("alg", "RS256");
  header.set("typ", "JWT");
  if (!key_id.empty()) header.set("kid", key_id);
  Json body = Json::object();
  body.set("iss", claims.iss);
  if (!claims.sub.empty()) body.set("sub", claims.sub);
  body.set("scope", claims.scope);
  body.set("aud", claims.aud);
  body.set("iat", static_cast<long long>(claims.iat));
  body.set("exp", static_cast<long long>(claims.exp));
  const std::string signing_input =
      base64url_encode(header.dump()) + "." + base64url_encode(body.dump());
  auto signature = key.sign_rs256(signing_input);
  if (!signature) return signature.error();
  return signing_input + "." + base64url_encode(*signature);
}

Result<DecodedJwt> decode_jwt(std::string_view token) {
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return make_error(ProviderErrc::kAuth, "a JWT has three dot-separated parts");
  DecodedJwt out;
  auto header = decode_json_part(token.substr(0, first), "header");
  if (!header) return header.error();
  auto claims = decode_json_part(token.substr(first + 1, second - first - 1), "claims");
  if (!claims) return claims.error();
  auto signature = base64url_decode(token.substr(second + 1));
  if (!signature || signature->empty())
    return make_error(ProviderErrc::kAuth, "JWT signature is missing or not base64url");
  out.header = std::move(*header);
  out.claims = std::move(*claims);
  out.signing_input = std::string(token.substr(0, second));
  out.signature = std::move(*signature);
  return out;
}

bool verify_jwt_signature(const DecodedJwt& jwt, const RsaKey& key) {
  const Json* alg = jwt.header.find("alg");
  if (!alg || alg->as_string() != std::optional<std::string_view>("RS256")) return false;
  return key.verify_rs256(jwt.signing_input, jwt.signature);
}

}  // namespace skyd::providers::gcp
