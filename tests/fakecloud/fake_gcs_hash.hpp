#pragma once
// The checksums Cloud Storage keeps for every object, computed as the bytes arrive (a resumable
// upload's chunks come in many requests): CRC32C (Castagnoli, table-driven) and MD5, each shown
// base64-encoded in the object resource (crc32c of the 4 bytes big-endian, md5Hash of the 16).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace skyd::fakecloud {

// CRC-32C (iSCSI polynomial, reflected 0x82F63B78): "123456789" gives 0xE3069283.
class Crc32c {
 public:
  void update(std::string_view bytes);
  std::uint32_t value() const { return ~state_; }
  // The 4 bytes big-endian, base64-encoded (the object resource's crc32c).
  std::string base64() const;

 private:
  std::uint32_t state_ = 0xFFFFFFFFu;
};

// MD5 over pieces; OpenSSL's context stays inside the .cpp.
class Md5 {
 public:
  Md5();
  ~Md5();
  Md5(Md5&&) noexcept;
  Md5& operator=(Md5&&) noexcept;
  void update(std::string_view bytes);
  // The raw 16-byte digest; the object is spent afterwards.
  std::string finish();

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace skyd::fakecloud
