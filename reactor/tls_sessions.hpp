#pragma once
// TLS sessions kept per peer so that the next connection to it resumes: the peer sends no
// certificate and neither side decodes, verifies or signs one, which is most of a handshake's
// CPU (a cancel of every job opens a second connection to each node while the first carries its
// long poll). Only for pinned peers, keyed like the connection pool, so a session is offered
// only to the identity it was made with (and a peer that cannot resume it does a full handshake,
// verified as always). One shard only, like the client that owns it.
//
// They can be saved and loaded (save/load), so that a restarted controller resumes with every node
// it had instead of doing one full handshake per node: the saved form holds resumption secrets
// (not the peers' certificates, which resuming does not need) and is kept by its owner where only
// it can read it.

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
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
  // The peer is gone (no connection to it is left): its session is not kept. False when none was.
  bool forget(const std::string& key);

  // Counts the changes to the sessions kept: a saver compares it to skip saving the same set.
  std::uint64_t changes() const { return changes_; }
  // Every session kept, with its key, in a form load() reads (resumption secrets: keep it private).
  std::string save() const;
  // Keeps the sessions of a save(), each decoded when first offered (and dropped then if it does
  // not decode or is no longer resumable); a damaged or cut save yields the records before the
  // damage. Returns how many were kept.
  std::size_t load(std::string_view saved);
  // Forgets the loaded sessions no connection has offered since they were loaded: their peers
  // are gone.
  void drop_unused_loaded();

 private:
  struct Kept {
    SSL_SESSION* session = nullptr;  // null: loaded, not decoded yet
    std::string encoded;  // DER, made once when the session arrives: a save only copies it
    bool loaded_unused = false;
  };
  static int on_new_session(SSL* ssl, SSL_SESSION* session);
  void keep(const std::string& key, SSL_SESSION* session, std::string encoded, bool loaded = false);

  SSL_CTX* context_;
  std::size_t most_kept_;
  std::unordered_map<std::string, Kept> sessions_;
  std::uint64_t changes_ = 0;
};

}  // namespace skyd::http
