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

// A self-signed CA certificate (EC P-256), valid for `days`.
Result<CertifiedKey> make_certificate_authority(const std::string& common_name, int days = 3650);

// A server certificate signed by `authority`; `names` become subjectAltNames (an IP literal becomes
// an IP SAN, anything else a DNS SAN).
Result<CertifiedKey> issue_server_certificate(const CertifiedKey& authority,
                                              const std::string& common_name,
                                              const std::vector<std::string>& names,
                                              int days = 825);

}  // namespace skyd
