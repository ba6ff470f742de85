#include "reactor/tls_sessions.hpp"

#include <ctime>
#include <optional>

namespace skyd::http {
namespace {

constexpr std::string_view kSavedFormat = "skyd-tls-sessions/1\n";
constexpr std::uint32_t kLongestKey = 4096;
constexpr std::uint32_t kLongestSession = 64 * 1024;

// One DER element at the front of `in`: its tag and its whole encoding (tag, length, contents).
// Only single-byte tags, as every field of a session has; nothing when `in` does not start with
// a well-formed element.
struct DerElement {
  unsigned char tag = 0;
  std::string_view whole;
  std::string_view contents;
};
std::optional<DerElement> take_element(std::string_view& in) {
  if (in.size() < 2 || (static_cast<unsigned char>(in[0]) & 0x1f) == 0x1f) return std::nullopt;
  std::size_t at = 1;
  std::size_t length = static_cast<unsigned char>(in[at++]);
  if (length & 0x80) {
    const std::size_t octets = length & 0x7f;
    if (octets == 0 || octets > 4 || in.size() < at + octets) return std::nullopt;
    length = 0;
    for (std::size_t i = 0; i < octets; ++i)
      length = (length << 8) | static_cast<unsigned char>(in[at++]);
  }
  if (in.size() - at < length) return std::nullopt;
  DerElement element{static_cast<unsigned char>(in[0]), in.substr(0, at + length),
                     in.substr(at, length)};
  in.remove_prefix(at + length);
  return element;
}

void put_der_length(std::string& out, std::size_t length) {
  if (length < 0x80) {
    out.push_back(static_cast<char>(length));
    return;
  }
  int octets = 0;
  for (std::size_t rest = length; rest > 0; rest >>= 8) ++octets;
  out.push_back(static_cast<char>(0x80 | octets));
  for (int shift = (octets - 1) * 8; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(length >> shift));
}

// A session's DER without the peer's certificate (its field [3], OpenSSL's SSL_SESSION_ASN1).
// Resuming needs only the ticket and its secret: the certificate was verified when the session
// was made, and decoding it again (its public key through OpenSSL 3.0's decoders) was a seventh
// of a restarted controller's CPU while it re-attached ten thousand nodes. Left whole when it
// does not parse as expected.
std::string without_peer_certificate(std::string encoded) {
  constexpr unsigned char kSequence = 0x30;
  constexpr unsigned char kPeerCertificate = 0xa3;  // [3] EXPLICIT, constructed
  std::string_view in = encoded;
  auto session = take_element(in);
  if (!session || session->tag != kSequence || !in.empty()) return encoded;
  std::string fields;
  fields.reserve(session->contents.size());
  std::string_view rest = session->contents;
  bool dropped = false;
  while (!rest.empty()) {
    auto field = take_element(rest);
    if (!field) return encoded;
    if (field->tag == kPeerCertificate) {
      dropped = true;
      continue;
    }
    fields.append(field->whole);
  }
  if (!dropped) return encoded;
  std::string out(1, static_cast<char>(kSequence));
  put_der_length(out, fields.size());
  out.append(fields);
  return out;
}

std::string encode(SSL_SESSION* session) {
  const int size = i2d_SSL_SESSION(session, nullptr);
  if (size <= 0) return {};
  std::string encoded(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(encoded.data());
  i2d_SSL_SESSION(session, &out);
  return without_peer_certificate(std::move(encoded));
}

void put_field(std::string& out, std::string_view field) {
  const auto size = static_cast<std::uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(field);
}

// The next length-prefixed field of `in` (consumed), or nothing when `in` ends or lies.
std::optional<std::string_view> take_field(std::string_view& in, std::uint32_t longest) {
  if (in.size() < 4) return std::nullopt;
  std::uint32_t size = 0;
  for (int i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(in[i]);
  if (size > longest || in.size() - 4 < size) return std::nullopt;
  const std::string_view field = in.substr(4, size);
  in.remove_prefix(4 + size);
  return field;
}

bool still_resumable(SSL_SESSION* session) {
  const auto expires = SSL_SESSION_get_time(session) + SSL_SESSION_get_timeout(session);
  return SSL_SESSION_is_resumable(session) && std::time(nullptr) < expires;
}

// Where a connection's key lives while it is open: freed with the SSL object.
int key_index() {
  static const int index = SSL_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* key, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<std::string*>(key);
      });
  return index;
}

}  // namespace

TlsSessions::TlsSessions(SSL_CTX* context, std::size_t most_kept)
    : context_(context), most_kept_(most_kept) {
  // A client keeps no sessions itself: each arrives through the callback, filed by its peer.
  SSL_CTX_set_session_cache_mode(context_, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
  SSL_CTX_set_app_data(context_, this);
  SSL_CTX_sess_set_new_cb(context_, &TlsSessions::on_new_session);
}

TlsSessions::~TlsSessions() {
  // Connections may outlive the client for a moment: their tickets then go nowhere.
  SSL_CTX_sess_set_new_cb(context_, nullptr);
  SSL_CTX_set_app_data(context_, nullptr);
  for (auto& entry : sessions_) SSL_SESSION_free(entry.second.session);
}

bool TlsSessions::prepare(SSL* ssl, const std::string& key) {
  SSL_set_ex_data(ssl, key_index(), new std::string(key));
  auto kept = sessions_.find(key);
  if (kept == sessions_.end()) return false;
  if (!kept->second.session) {
    // Loaded and not decoded yet: decoding ten thousand at load took a restarted controller a
    // second and a half before it answered anyone.
    const auto* in = reinterpret_cast<const unsigned char*>(kept->second.encoded.data());
    SSL_SESSION* session =
        d2i_SSL_SESSION(nullptr, &in, static_cast<long>(kept->second.encoded.size()));
    if (!session || !still_resumable(session)) {
      SSL_SESSION_free(session);
      sessions_.erase(kept);
      ++changes_;
      return false;
    }
    kept->second.session = session;
  }
  kept->second.loaded_unused = false;
  return SSL_set_session(ssl, kept->second.session) == 1;
}

bool TlsSessions::forget(const std::string& key) {
  auto kept = sessions_.find(key);
  if (kept == sessions_.end()) return false;
  SSL_SESSION_free(kept->second.session);
  sessions_.erase(kept);
  ++changes_;
  return true;
}

std::string TlsSessions::save() const {
  std::size_t size = kSavedFormat.size();
  for (const auto& [key, kept] : sessions_) size += 8 + key.size() + kept.encoded.size();
  std::string saved;
  saved.reserve(size);
  saved.append(kSavedFormat);
  for (const auto& [key, kept] : sessions_) {
    if (kept.encoded.empty()) continue;
    put_field(saved, key);
    put_field(saved, kept.encoded);
  }
  return saved;
}

std::size_t TlsSessions::load(std::string_view saved) {
  if (!saved.starts_with(kSavedFormat)) return 0;
  saved.remove_prefix(kSavedFormat.size());
  std::size_t loaded = 0;
  while (!saved.empty()) {
    auto key = take_field(saved, kLongestKey);
    auto encoded = key ? take_field(saved, kLongestSession) : std::nullopt;
    if (!encoded) break;
    keep(std::string(*key), nullptr, std::string(*encoded), true);  // decoded when offered
    ++loaded;
  }
  return loaded;
}

void TlsSessions::drop_unused_loaded() {
  std::erase_if(sessions_, [this](auto& entry) {
    if (!entry.second.loaded_unused) return false;
    SSL_SESSION_free(entry.second.session);
    ++changes_;
    return true;
  });
}

int TlsSessions::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsSessions*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, key_index()));
  if (!self || !key || !SSL_SESSION_is_resumable(session)) return 0;
  // A copy: OpenSSL marks the connection's own session unresumable when the connection is
  // dropped without a close_notify, as a pooled connection is.
  if (SSL_SESSION* copy = SSL_SESSION_dup(session)) self->keep(*key, copy, encode(copy));
  return 0;  // the connection keeps its reference
}

void TlsSessions::keep(const std::string& key, SSL_SESSION* session, std::string encoded,
                       bool loaded) {
  ++changes_;
  Kept fresh{session, std::move(encoded), loaded};
  if (auto kept = sessions_.find(key); kept != sessions_.end()) {
    SSL_SESSION_free(kept->second.session);  // the newest ticket replaces the older one
    kept->second = std::move(fresh);
    return;
  }
  // Peers are forgotten when their last connection closes; this only bounds a flood.
  if (sessions_.size() >= most_kept_) {
    for (auto& entry : sessions_) SSL_SESSION_free(entry.second.session);
    sessions_.clear();
  }
  sessions_.emplace(key, std::move(fresh));
}

}  // namespace skyd::http
