#include "reactor/tls_sessions.hpp"

namespace skyd::http {
namespace {

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
  for (auto& entry : sessions_) SSL_SESSION_free(entry.second);
}

bool TlsSessions::prepare(SSL* ssl, const std::string& key) {
  SSL_set_ex_data(ssl, key_index(), new std::string(key));
  auto kept = sessions_.find(key);
  return kept != sessions_.end() && SSL_set_session(ssl, kept->second) == 1;
}

void TlsSessions::forget(const std::string& key) {
  auto kept = sessions_.find(key);
  if (kept == sessions_.end()) return;
  SSL_SESSION_free(kept->second);
  sessions_.erase(kept);
}

int TlsSessions::on_new_session(SSL* ssl, SSL_SESSION* session) {
  auto* self = static_cast<TlsSessions*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  auto* key = static_cast<std::string*>(SSL_get_ex_data(ssl, key_index()));
  if (!self || !key || !SSL_SESSION_is_resumable(session)) return 0;
  // A copy: OpenSSL marks the connection's own session unresumable when the connection is
  // dropped without a close_notify, as a pooled connection is.
  if (SSL_SESSION* copy = SSL_SESSION_dup(session)) self->keep(*key, copy);
  return 0;  // the connection keeps its reference
}

void TlsSessions::keep(const std::string& key, SSL_SESSION* session) {
  if (auto kept = sessions_.find(key); kept != sessions_.end()) {
    SSL_SESSION_free(kept->second);  // the newest ticket replaces the older one
    kept->second = session;
    return;
  }
  // Peers are forgotten when their last connection closes; this only bounds a flood.
  if (sessions_.size() >= most_kept_) {
    for (auto& entry : sessions_) SSL_SESSION_free(entry.second);
    sessions_.clear();
  }
  sessions_.emplace(key, session);
}

}  // namespace skyd::http
