#include "tests/fakecloud/fake_gcs_hash.hpp"

#include "providers/aws/ec2_api.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace skyd::fakecloud {
namespace {

constexpr std::uint32_t kCastagnoliReflected = 0x82F63B78u;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? kCastagnoliReflected : 0u);
    table[i] = crc;
  }
  return table;
}

constexpr auto kTable = make_table();

}  // namespace

void Crc32c::update(std::string_view bytes) {
  std::uint32_t crc = state_;
  for (unsigned char byte : bytes) crc = kTable[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
  state_ = crc;
}

std::string Crc32c::base64() const {
  const std::uint32_t crc = value();
  const char bytes[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                         static_cast<char>(crc >> 8), static_cast<char>(crc)};
  return providers::aws::base64_encode(std::string_view(bytes, 4));
}

struct Md5::Context {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
};

Md5::Md5() : context_(std::make_unique<Context>()) {
  if (!context_->md || EVP_DigestInit_ex(context_->md.get(), EVP_md5(), nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot start an MD5 digest");
}
Md5::~Md5() = default;
Md5::Md5(Md5&&) noexcept = default;
Md5& Md5::operator=(Md5&&) noexcept = default;

void Md5::update(std::string_view bytes) {
  EVP_DigestUpdate(context_->md.get(), bytes.data(), bytes.size());
}

std::string Md5::finish() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context_->md.get(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace skyd::fakecloud
