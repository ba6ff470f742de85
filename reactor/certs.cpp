#include "reactor/certs.hpp"

#include "reactor/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <iterator>
#include <memory>
#include <optional>

namespace skyd {
namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;

Error openssl_error(std::string what) {
  char buffer[256] = {};
  ERR_error_string_n(ERR_get_error(), buffer, sizeof buffer);
  return make_error(NetErrc::kTlsFailed, what + ": " + buffer);
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<CertifiedKey> to_pem(X509* certificate, EVP_PKEY* key) {
  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(cert_bio.get(), certificate) ||
      !PEM_write_bio_PrivateKey(key_bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return openssl_error("writing PEM");
  }
  return CertifiedKey{bio_text(cert_bio.get()), bio_text(key_bio.get())};
}

bool add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (!extension) return false;
  const bool added = X509_add_ext(certificate, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

// An Ed25519 key is written into the certificate as its 32 raw bytes (RFC 8410: no parameters).
// X509_set_pubkey would get there by encoding the key and decoding it back, which under OpenSSL
// 3.0's decoders was 7% of skyd's CPU in a burst of launches (one certificate per cluster).
bool set_public_key(X509* certificate, EVP_PKEY* key) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) return X509_set_pubkey(certificate, key) == 1;
  std::size_t size = 0;
  if (EVP_PKEY_get_raw_public_key(key, nullptr, &size) != 1) return false;
  auto* bits = static_cast<unsigned char*>(OPENSSL_malloc(size));
  if (!bits || EVP_PKEY_get_raw_public_key(key, bits, &size) != 1) {
    OPENSSL_free(bits);
    return false;
  }
  if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(certificate), OBJ_nid2obj(NID_ED25519),
                             V_ASN1_UNDEF, nullptr, bits, static_cast<int>(size)) != 1) {
    OPENSSL_free(bits);
    return false;
  }
  return true;
}

// What a new certificate holds besides its key and name. Empty serial: a random one; no fixed
// window: valid from an hour ago for `days`.
struct Validity {
  int days = 825;
  std::optional<std::pair<std::time_t, std::time_t>> fixed_window;
  std::string serial;  // 16 bytes
};

Result<CertPtr> new_certificate(EVP_PKEY* key, const std::string& common_name,
                                const Validity& validity) {
  CertPtr certificate(X509_new());
  unsigned char serial[16];
  if (validity.serial.size() >= sizeof serial)
    std::memcpy(serial, validity.serial.data(), sizeof serial);
  else
    RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial number
  BIGNUM* serial_number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(serial_number, X509_get_serialNumber(certificate.get()));
  BN_free(serial_number);
  X509_set_version(certificate.get(), 2);
  if (validity.fixed_window) {
    std::time_t from = validity.fixed_window->first, until = validity.fixed_window->second;
    X509_time_adj_ex(X509_getm_notBefore(certificate.get()), 0, 0, &from);
    X509_time_adj_ex(X509_getm_notAfter(certificate.get()), 0, 0, &until);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                    static_cast<long>(validity.days) * 86400);
  }
  if (!set_public_key(certificate.get(), key)) return openssl_error("setting the public key");
  X509_NAME* name = X509_get_subject_name(certificate.get());
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                  reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                  -1, 0))
    return openssl_error("the common name '" + common_name + "' (at most 64 characters)");
  return certificate;
}

Result<std::pair<CertPtr, KeyPtr>> parse(const CertifiedKey& pem) {
  BioPtr cert_bio(
      BIO_new_mem_buf(pem.certificate_pem.data(), static_cast<int>(pem.certificate_pem.size())));
  BioPtr key_bio(
      BIO_new_mem_buf(pem.private_key_pem.data(), static_cast<int>(pem.private_key_pem.size())));
  CertPtr certificate(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!certificate || !key) return openssl_error("reading the authority's PEM");
  return std::pair{std::move(certificate), std::move(key)};
}

// The authority's certificate and key, parsed once per thread: every cluster's certificate is
// signed by the same one, and OpenSSL 3.0's key decoder was a third of skyd's CPU in a burst of
// launches when each signing parsed the PEM again. Each caller gets its own references.
Result<std::pair<CertPtr, KeyPtr>> load(const CertifiedKey& pem) {
  struct Parsed {
    std::string certificate_pem, private_key_pem;
    CertPtr certificate;
    KeyPtr key;
  };
  thread_local std::vector<Parsed> parsed;  // authorities are few: one or two a process
  auto known = std::find_if(parsed.begin(), parsed.end(), [&](const Parsed& entry) {
    return entry.certificate_pem == pem.certificate_pem &&
           entry.private_key_pem == pem.private_key_pem;
  });
  if (known == parsed.end()) {
    auto fresh = parse(pem);
    if (!fresh) return fresh.error();
    if (parsed.size() >= 8) parsed.erase(parsed.begin());
    parsed.push_back(Parsed{pem.certificate_pem, pem.private_key_pem, std::move(fresh->first),
                            std::move(fresh->second)});
    known = std::prev(parsed.end());
  }
  X509_up_ref(known->certificate.get());
  EVP_PKEY_up_ref(known->key.get());
  return std::pair{CertPtr(known->certificate.get()), KeyPtr(known->key.get())};
}

bool is_ip_literal(const std::string& name) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, name.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

// Ed25519 signatures need no digest (and are deterministic); EC signs a SHA-256 digest.
const EVP_MD* digest_for(EVP_PKEY* signer) {
  return EVP_PKEY_get_id(signer) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
}

KeyPtr new_key(KeyKind kind) {
  if (kind == KeyKind::kEd25519) return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  return KeyPtr(EVP_EC_gen("P-256"));
}

Result<CertifiedKey> sign_server_certificate(const CertifiedKey& authority, EVP_PKEY* key,
                                             const std::string& common_name,
                                             const std::vector<std::string>& names,
                                             const Validity& validity) {
  auto issuer = load(authority);
  if (!issuer) return issuer.error();
  auto certificate = new_certificate(key, common_name, validity);
  if (!certificate) return certificate.error();
  X509* cert = certificate->get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer->first.get()));
  std::string alt_names;
  for (const auto& name : names) {
    if (!alt_names.empty()) alt_names += ',';
    alt_names += (is_ip_literal(name) ? "IP:" : "DNS:") + name;
  }
  if (!add_extension(cert, issuer->first.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_extension(cert, issuer->first.get(), NID_ext_key_usage, "serverAuth") ||
      (!alt_names.empty() &&
       !add_extension(cert, issuer->first.get(), NID_subject_alt_name, alt_names))) {
    return openssl_error("adding server extensions");
  }
  if (!X509_sign(cert, issuer->second.get(), digest_for(issuer->second.get())))
    return openssl_error("signing");
  return to_pem(cert, key);
}

}  // namespace

Result<CertifiedKey> make_certificate_authority(const std::string& common_name, int days,
                                                KeyKind kind) {
  KeyPtr key = new_key(kind);
  if (!key) return openssl_error("generating a key");
  auto certificate = new_certificate(key.get(), common_name, Validity{days, {}, {}});
  if (!certificate) return certificate.error();
  X509* cert = certificate->get();
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  if (!add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_extension(cert, cert, NID_subject_key_identifier, "hash")) {
    return openssl_error("adding CA extensions");
  }
  if (!X509_sign(cert, key.get(), digest_for(key.get()))) return openssl_error("signing the CA");
  return to_pem(cert, key.get());
}

Result<CertifiedKey> issue_server_certificate(const CertifiedKey& authority,
                                              const std::string& common_name,
                                              const std::vector<std::string>& names, int days) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_error("generating a key");
  return sign_server_certificate(authority, key.get(), common_name, names, Validity{days, {}, {}});
}

Result<CertifiedKey> issue_derived_server_certificate(const CertifiedKey& authority,
                                                      const std::string& common_name,
                                                      const std::vector<std::string>& names,
                                                      std::string_view secret) {
  const std::string seed = hmac_sha256(secret, "skyd certificate key");
  KeyPtr key(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (!key) return openssl_error("deriving a key");
  // 2024-01-01 to 2074-01-01: no clock enters the certificate.
  Validity validity{0, std::pair<std::time_t, std::time_t>{1704067200, 3282249600}, {}};
  validity.serial = hmac_sha256(secret, "skyd certificate serial " + common_name);
  return sign_server_certificate(authority, key.get(), common_name, names, validity);
}

std::string common_name_of(const std::string& certificate_pem) {
  BioPtr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
  CertPtr certificate(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!certificate) return {};
  char name[256] = {};
  const int size = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()),
                                             NID_commonName, name, sizeof name);
  return size > 0 ? std::string(name, static_cast<std::size_t>(size)) : std::string();
}

}  // namespace skyd
