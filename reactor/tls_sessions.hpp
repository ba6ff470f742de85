#pragma once
// TLS sessions kept per peer so that the next connection to it resumes: the peer sends no
// certificate and neither side decodes, verifies or signs one, which is most of a handshake's
// CPU (a cancel of every job opens a second connection to each node while the first carries its
// long poll). Only for pinned peers, keyed like the connection pool, so a session is offered
// only to the identity it was made with (and a peer that cannot resume it does a full handshake,
// verified as always). One shard only, like the client that owns it.

#include <openssl/ssl.h>

#include <cstddef>
#include <string>
#include <unordered_map>

namespace skyd::http {

class TlsSessions {
 public:
  // Takes the sessions `context` receives (it must outlive this).
  explicit TlsSessions(SSL_CTX* context, std::size_t most_kept = 65536);
  ~TlsSessions();
  TlsSessions(const TlsSessions&) = delete;
  TlsSessions& operator=(const TlsSessions&) = delete;

  // Before the handshake: offers the session kept for `key`, if any (true when one was), and
  // files the sessions this connection receives under `key`.
  bool prepare(SSL* ssl, const std::string& key);
  // The peer is gone (no connection to it is left): its session is not kept.
  void forget(const std::string& key);

 private:
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  void keep(const std::string& key, SSL_SESSION* session);

  SSL_CTX* context_;
  std::size_t most_kept_;
  std::unordered_map<std::string, SSL_SESSION*> sessions_;
};

}  // namespace skyd::http
