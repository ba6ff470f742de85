#pragma once
// Small cryptographic helpers on OpenSSL: random tokens, SHA-256 and HMAC-SHA256.

#include <cstddef>
#include <string>
#include <string_view>

namespace skyd {

// `bytes` random bytes from the OS CSPRNG, hex-encoded.
std::string random_hex(std::size_t bytes);
std::string sha256_hex(std::string_view data);
// The raw MD5 digest (16 bytes). Only for protocols that demand it (S3's Content-MD5), never
// for anything that must resist tampering.
std::string md5_raw(std::string_view data);
// The SHA-256 of a file's contents, read in pieces (blocking: call it off the reactor). Empty when
// the file cannot be read.
std::string sha256_file_hex(const std::string& path);
// Raw HMAC-SHA256 (32 bytes) and its hex form.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
std::string to_hex(std::string_view bytes);

}  // namespace skyd
