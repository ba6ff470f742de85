// RS256 JWTs as Google's token endpoint takes them: base64url, the header and claims, and a
// signature that OpenSSL itself (not our verifier) accepts with the key's public half.
#include "providers/gcp/jwt.hpp"
#include "providers/gcp/gcp_auth.hpp"
#include "tests/support/gcp_keys.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <gtest/gtest.h>

#include <memory>

namespace skyd::providers::gcp {
namespace {

// Verifies with OpenSSL's EVP API directly, from the private key PEM's public half.
bool openssl_verifies(const std::string& private_pem, const std::string& data,
                      const std::string& signature) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), &BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  return EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                          data.size()) == 1;
}

const testing::TestServiceAccount& account() {
  static const testing::TestServiceAccount made = testing::make_test_service_account();
  return made;
}

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
  EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
  EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
  // The URL-safe alphabet: 0xfb 0xff would be "+/8" in plain base64.
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64Url, DecodesWithOrWithoutPaddingAndRefusesOtherAlphabets) {
  EXPECT_EQ(base64url_decode("Zm9vYg"), std::optional<std::string>("foob"));
  EXPECT_EQ(base64url_decode("Zm9vYg=="), std::optional<std::string>("foob"));
  EXPECT_EQ(base64url_decode("-_8"), std::optional<std::string>("\xfb\xff"));
  EXPECT_FALSE(base64url_decode("+/8"));    // plain base64's alphabet
  EXPECT_FALSE(base64url_decode("Zm9vY"));  // a length no encoding makes
  EXPECT_FALSE(base64url_decode("Zm 9v"));
}

TEST(Jwt, AssertionCarriesGooglesHeaderAndClaims) {
  auto rsa = RsaKey::from_private_pem(account().private_key_pem);
  ASSERT_TRUE(rsa) << rsa.error().message();
  ServiceAccountKey key{account().project_id, account().private_key_id, account().private_key_pem,
                        account().client_email, "http://127.0.0.1:9/token"};
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  auto token = service_account_assertion(key, *rsa, now);
  ASSERT_TRUE(token) << token.error().message();
  auto jwt = decode_jwt(*token);
  ASSERT_TRUE(jwt) << jwt.error().message();
  EXPECT_EQ(jwt->header.dump(),
            R"({"alg":"RS256","typ":"JWT","kid":")" + account().private_key_id + R"("})");
  EXPECT_EQ(jwt->claims.find("iss")->as_string(), std::string_view(account().client_email));
  EXPECT_EQ(jwt->claims.find("scope")->as_string(), kCloudPlatformScope);
  EXPECT_EQ(jwt->claims.find("aud")->as_string(), std::string_view("http://127.0.0.1:9/token"));
  EXPECT_EQ(jwt->claims.find("iat")->as_int(), 1'700'000'000);
  EXPECT_EQ(jwt->claims.find("exp")->as_int(), 1'700'003'600);
  EXPECT_FALSE(jwt->claims.find("sub"));
  // Each part is base64url: no padding, no '+' or '/'.
  EXPECT_EQ(token->find_first_of("=+/"), std::string::npos);
}

TEST(Jwt, SignatureVerifiesWithOpenSsl) {
  auto rsa = RsaKey::from_private_pem(account().private_key_pem);
  ASSERT_TRUE(rsa);
  auto token = sign_jwt(JwtClaims{"a@b", "", "s", "https://x/token", 1, 2}, *rsa, "kid");
  ASSERT_TRUE(token);
  const auto last_dot = token->rfind('.');
  const std::string signing_input = token->substr(0, last_dot);
  const auto signature = base64url_decode(token->substr(last_dot + 1));
  ASSERT_TRUE(signature);
  EXPECT_EQ(signature->size(), 256u);  // 2048-bit RSA
  EXPECT_TRUE(openssl_verifies(account().private_key_pem, signing_input, *signature));
  EXPECT_FALSE(openssl_verifies(account().private_key_pem, signing_input + "x", *signature));
}

TEST(Jwt, VerifierAcceptsTheSignerAndRefusesAnotherKeyOrATamperedClaim) {
  auto rsa = RsaKey::from_private_pem(account().private_key_pem);
  ASSERT_TRUE(rsa);
  auto public_key = RsaKey::from_public_pem(rsa->public_pem());
  ASSERT_TRUE(public_key) << public_key.error().message();
  EXPECT_FALSE(public_key->can_sign());
  EXPECT_EQ(public_key->bits(), 2048);
  auto token = sign_jwt(JwtClaims{"a@b", "", "s", "https://x/token", 1, 2}, *rsa, "");
  ASSERT_TRUE(token);
  auto jwt = decode_jwt(*token);
  ASSERT_TRUE(jwt);
  EXPECT_FALSE(jwt->header.find("kid"));
  EXPECT_TRUE(verify_jwt_signature(*jwt, *public_key));

  auto other = RsaKey::from_private_pem(testing::make_test_service_account().private_key_pem);
  ASSERT_TRUE(other);
  EXPECT_FALSE(verify_jwt_signature(*jwt, *other));

  Json claims = jwt->claims;
  claims.set("iss", "mallory@b");
  const auto dot = token->find('.');
  const auto last_dot = token->rfind('.');
  auto tampered = decode_jwt(token->substr(0, dot) + "." + base64url_encode(claims.dump()) +
                             token->substr(last_dot));
  ASSERT_TRUE(tampered);
  EXPECT_FALSE(verify_jwt_signature(*tampered, *public_key));
}

TEST(Jwt, DecodeNamesTheMalformedPart) {
  auto two_parts = decode_jwt("abc.def");
  ASSERT_FALSE(two_parts);
  EXPECT_NE(two_parts.error().detail.find("three"), std::string::npos);
  auto bad_header = decode_jwt("!!.e30.c2ln");
  ASSERT_FALSE(bad_header);
  EXPECT_NE(bad_header.error().detail.find("header"), std::string::npos);
  auto bad_claims = decode_jwt(base64url_encode("{}") + "." + base64url_encode("[1]") + ".c2ln");
  ASSERT_FALSE(bad_claims);
  EXPECT_NE(bad_claims.error().detail.find("claims"), std::string::npos);
  auto no_signature = decode_jwt(base64url_encode("{}") + "." + base64url_encode("{}") + ".");
  ASSERT_FALSE(no_signature);
  EXPECT_NE(no_signature.error().detail.find("signature"), std::string::npos);
}

TEST(Jwt, AnotherAlgorithmIsNotVerified) {
  auto rsa = RsaKey::from_private_pem(account().private_key_pem);
  ASSERT_TRUE(rsa);
  auto token = sign_jwt(JwtClaims{"a@b", "", "s", "https://x/token", 1, 2}, *rsa, "");
  ASSERT_TRUE(token);
  auto jwt = decode_jwt(*token);
  ASSERT_TRUE(jwt);
  jwt->header.set("alg", "none");
  EXPECT_FALSE(verify_jwt_signature(*jwt, *rsa));
}

TEST(RsaKey, RefusesWhatIsNotAnRsaPrivateKeyWithoutQuotingIt) {
  auto garbage = RsaKey::from_private_pem(
      "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().detail.find("c2VjcmV0"), std::string::npos);
  EXPECT_FALSE(RsaKey::from_private_pem(""));
}

}  // namespace
}  // namespace skyd::providers::gcp
