#pragma once
// Certificates made in-process with OpenSSL: a private CA per cluster (the controller pins it when
// it calls that cluster's skylets) and the server certificates it issues. Tests use the same code
// for their self-signed CAs.

#include "reactor/error.hpp"

#include <string>
#include <vector>

namespace skyd {

struct CertifiedKey {
  std::string certificate_pem;
  std::string private_key_pem;
};

enum class KeyKind {
  kEcP256,
  kEd25519,  // deterministic signatures: what an authority signing derived certificates needs
};

// A self-signed CA certificate, valid for `days`.
Result<CertifiedKey> make_certificate_authority(const std::string& common_name, int days = 3650,
                                                KeyKind kind = KeyKind::kEcP256);

// A server certificate signed by `authority`; `names` become subjectAltNames (an IP literal becomes
// an IP SAN, anything else a DNS SAN).
Result<CertifiedKey> issue_server_certificate(const CertifiedKey& authority,
                                              const std::string& common_name,
                                              const std::vector<std::string>& names,
                                              int days = 825);

// A server certificate whose every byte follows from its inputs: the key (Ed25519) and serial are
// derived from `secret`, the validity window is fixed. Issued twice by an Ed25519 authority, it is
// the same certificate, so a request that embeds it can be repeated as it was (EC2's ClientToken
// refuses a retry whose parameters differ). The secret must stay as secret as the key.
Result<CertifiedKey> issue_derived_server_certificate(const CertifiedKey& authority,
                                                      const std::string& common_name,
                                                      const std::vector<std::string>& names,
                                                      std::string_view secret);

// The subject's common name of a PEM certificate; empty when it cannot be read.
std::string common_name_of(const std::string& certificate_pem);

}  // namespace skyd
