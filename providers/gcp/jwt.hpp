#pragma once
// JSON Web Tokens signed with RS256 (RSASSA-PKCS1-v1_5 over SHA-256, RFC 7518), the assertion a
// Google service account trades for an access token (RFC 7523), and the RSA keys that sign and
// verify them. OpenSSL stays inside jwt.cpp. Keys live in memory only: RsaKey has no printer and
// nothing here logs.

#include "reactor/error.hpp"
#include "reactor/json.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::providers::gcp {

// base64url without padding (RFC 4648 §5), as JWTs use it.
std::string base64url_encode(std::string_view bytes);
// Accepts the alphabet with or without '=' padding; nullopt for any other character or a length
// no encoding produces.
std::optional<std::string> base64url_decode(std::string_view text);

// An RSA key: a private one signs (and verifies), a public one only verifies. Cheap to copy (the
// key is shared, immutable).
class RsaKey {
 public:
  // PEM "PRIVATE KEY" (PKCS#8, what Google's key files hold) or "RSA PRIVATE KEY" (PKCS#1).
  // Errors say why OpenSSL refused it, never what it held.
  static Result<RsaKey> from_private_pem(std::string_view pem);
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo).
  static Result<RsaKey> from_public_pem(std::string_view pem);

  bool can_sign() const { return can_sign_; }
  int bits() const;
  // The public half as PEM "PUBLIC KEY".
  std::string public_pem() const;
  // The raw RS256 signature of `data`; an error when the key cannot sign.
  Result<std::string> sign_rs256(std::string_view data) const;
  bool verify_rs256(std::string_view data, std::string_view signature) const;

  struct Key;  // OpenSSL's EVP_PKEY, in jwt.cpp

 private:
  RsaKey(std::shared_ptr<const Key> key, bool can_sign)
      : key_(std::move(key)), can_sign_(can_sign) {}
  std::shared_ptr<const Key> key_;
  bool can_sign_ = false;
};

// The claims of a Google OAuth assertion. `sub` is left out when empty (no impersonation).
struct JwtClaims {
  std::string iss;       // the service account's email
  std::string sub;       // a user to act for (domain-wide delegation); empty: none
  std::string scope;     // space-separated OAuth scopes
  std::string aud;       // the token endpoint's URL
  std::int64_t iat = 0;  // seconds since the epoch
  std::int64_t exp = 0;
};

// header.claims.signature: the header is {"alg":"RS256","typ":"JWT","kid":key_id} (no kid when
// `key_id` is empty).
Result<std::string> sign_jwt(const JwtClaims& claims, const RsaKey& key, std::string_view key_id);

// A JWT taken apart, not yet trusted.
struct DecodedJwt {
  Json header;
  Json claims;
  std::string signing_input;  // "header.claims" as it came, what the signature covers
  std::string signature;      // raw bytes
};
// Splits and decodes the three parts; errors say which part is malformed.
Result<DecodedJwt> decode_jwt(std::string_view token);
// True when the header says RS256 and the signature verifies under `key`.
bool verify_jwt_signature(const DecodedJwt& jwt, const RsaKey& key);

}  // namespace skyd::providers::gcp
