#pragma once
// What a client sends before it submits a job: a workdir as a tar archive, a file or a directory
// to mount. skyd never opens a path a client names: `sky` reads the files with its user's rights
// and sends the bytes here, by offset (a dropped connection resumes where it stopped), named by
// their SHA-256. Each user's uploads are their own (`<root>/<uid>/<digest>`); an upload is checked
// against its digest when its last byte arrives, and only then can a job use it. Every file
// operation runs off the shards; concurrent writers of one upload are told to come back (busy).
// Used from any shard: it holds no state of its own beyond its settings.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"
#include "reactor/identity.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace skyd::daemon {

struct UploadState {
  std::uint64_t size = 0;      // the whole upload
  std::uint64_t received = 0;  // bytes held so far
  bool complete = false;       // every byte arrived and the digest matched
};

enum class UploadErrc {
  kInvalid = 1,  // a digest that is not 64 hex digits, a size over the limit, more bytes than it
  kWrongOffset,  // the chunk does not start where the upload stands (the detail says where)
  kMismatch,     // the bytes do not hash to the digest (what was held is dropped)
  kBusy,         // another request is writing this upload now
  kIo,           // the disk said no
};
const boost::system::error_category& upload_category();
boost::system::error_code make_error_code(UploadErrc code);

class UploadStore {
 public:
  UploadStore(std::string root, std::uint64_t max_bytes);

  // Appends `bytes` at `offset` of the caller's upload of `size` bytes named `digest`.
  Task<Result<UploadState>> put(UserIdentity owner, std::string digest, std::uint64_t size,
                                std::uint64_t offset, std::string bytes);
  // How far the caller's upload has come.
  Task<Result<UploadState>> state(UserIdentity owner, std::string digest, std::uint64_t size);
  // The file of a complete upload (readable by its owner), or nothing.
  Task<std::optional<std::string>> complete_file(UserIdentity owner, std::string digest);
  // Removes uploads nobody has touched for `age`.
  Task<void> prune(Duration age);

  std::uint64_t max_bytes() const { return max_bytes_; }

 private:
  std::string root_;
  std::uint64_t max_bytes_;
};

}  // namespace skyd::daemon

template <>
struct boost::system::is_error_code_enum<skyd::daemon::UploadErrc> : std::true_type {};
