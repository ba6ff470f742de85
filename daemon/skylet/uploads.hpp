#pragma once
// Files the controller ships to a node before its task starts (the workdir snapshot, local
// file_mounts): received in chunks by offset, so a dropped connection resumes where it stopped,
// checked against their SHA-256, then unpacked once into place. Each upload has a name; once
// unpacked, the name answers "unpacked" and nothing is written again (a restarted controller that
// re-ships is a no-op). Bytes received for other content (another digest) never count.
//
//   GET  /files/{name}                   -> {"size": bytes held, "digest": D, "unpacked": bool}
//   PUT  /files/{name}?offset=N&digest=D the next chunk of content D; a chunk resent at an earlier
//                                         offset replaces what followed it
//   POST /files/{name}/unpack            {"kind": "tar"|"file", "destination": "~/x"|"/x"|"x",
//                                          "size": N} -> {"path": absolute destination}

#include "reactor/http_server.hpp"

#include <set>
#include <string>

namespace skyd::skylet {

// "~", "~/x" and relative paths are under `home`; absolute paths stay as they are.
std::string resolve_on_node(const std::string& path, const std::string& home);

class Uploads {
 public:
  Uploads(asio::any_io_executor executor, std::string dir, std::string home);

  Task<http::Response> status(http::Request& request);
  Task<http::Response> put(http::Request& request);
  Task<http::Response> unpack(http::Request& request);

 private:
  std::string part_path(const std::string& name) const;
  std::string done_path(const std::string& name) const;
  std::string digest_path(const std::string& name) const;

  asio::any_io_executor executor_;
  std::string dir_;
  std::string home_;
  std::set<std::string> unpacking_;  // names whose unpack is running
};

}  // namespace skyd::skylet
