#include "daemon/upload_store.hpp"

#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/hex.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>

namespace skyd::daemon {
namespace fs = std::filesystem;

namespace {

class UploadCategory : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "upload"; }
  std::string message(int value) const override {
    switch (static_cast<UploadErrc>(value)) {
      case UploadErrc::kInvalid:
        return "invalid upload";
      case UploadErrc::kWrongOffset:
        return "the chunk does not start where the upload stands";
      case UploadErrc::kMismatch:
        return "the bytes do not match the digest";
      case UploadErrc::kBusy:
        return "the upload is being written by another request";
      case UploadErrc::kIo:
        return "the upload cannot be stored";
    }
    return "upload error";
  }
};

Error upload_error(UploadErrc code, std::string detail) {
  return make_error(make_error_code(code), std::move(detail));
}

// An open file descriptor that closes itself.
struct Fd {
  int value = -1;
  ~Fd() {
    if (value >= 0) ::close(value);
  }
};

// Partial uploads and complete ones live apart, both in directories only skyd can enter: a user
// never gets a path skyd will write through.
std::string partial_path(const std::string& root, uid_t uid, const std::string& digest) {
  return root + "/partial/" + std::to_string(uid) + "/" + digest + ".part";
}
std::string ready_path(const std::string& root, uid_t uid, const std::string& digest) {
  return root + "/ready/" + std::to_string(uid) + "/" + digest;
}

Result<void> private_dirs_for(const std::string& file) {
  std::error_code ec;
  const fs::path dir = fs::path(file).parent_path();
  fs::create_directories(dir, ec);
  if (ec)
    return upload_error(UploadErrc::kIo, "cannot create " + dir.string() + ": " + ec.message());
  for (fs::path at = dir; at.has_parent_path() && at != at.parent_path(); at = at.parent_path()) {
    if (at.filename() == "partial" || at.filename() == "ready") break;
    ::chmod(at.c_str(), 0700);
  }
  return {};
}

std::optional<std::uint64_t> size_of(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return std::nullopt;
  return static_cast<std::uint64_t>(info.st_size);
}

Result<void> check_request(const std::string& digest, std::uint64_t size, std::uint64_t max_bytes) {
  if (!is_sha256_hex(digest))
    return upload_error(UploadErrc::kInvalid, "digest: expected 64 lowercase hex digits (SHA-256)");
  if (size > max_bytes) {
    return upload_error(UploadErrc::kInvalid,
                        "size: " + std::to_string(size) + " bytes is over this skyd's limit of " +
                            std::to_string(max_bytes) + " bytes per upload (max_upload_bytes)");
  }
  return {};
}

UploadState state_now(const std::string& root, uid_t uid, const std::string& digest,
                      std::uint64_t size) {
  if (auto ready = size_of(ready_path(root, uid, digest))) return UploadState{*ready, *ready, true};
  return UploadState{size, size_of(partial_path(root, uid, digest)).value_or(0), false};
}

Result<UploadState> write_chunk(const std::string& root, std::uint64_t max_bytes, uid_t uid,
                                const std::string& digest, std::uint64_t size, std::uint64_t offset,
                                const std::string& bytes) {
  if (auto checked = check_request(digest, size, max_bytes); !checked) return checked.error();
  if (offset + bytes.size() > size) {
    return upload_error(UploadErrc::kInvalid, "offset " + std::to_string(offset) + " and " +
                                                  std::to_string(bytes.size()) +
                                                  " bytes go past the size, " +
                                                  std::to_string(size));
  }
  const std::string ready = ready_path(root, uid, digest);
  if (auto held = size_of(ready)) return UploadState{*held, *held, true};  // sent before
  const std::string partial = partial_path(root, uid, digest);
  if (auto dirs = private_dirs_for(partial); !dirs) return dirs.error();
  Fd file{::open(partial.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)};
  if (file.value < 0)
    return upload_error(UploadErrc::kIo, "cannot open " + partial + ": " + std::strerror(errno));
  if (::flock(file.value, LOCK_EX | LOCK_NB) != 0)
    return upload_error(UploadErrc::kBusy, "another request is writing this upload; retry");
  struct stat info {};
  if (::fstat(file.value, &info) != 0 || !S_ISREG(info.st_mode))
    return upload_error(UploadErrc::kIo, "cannot read " + partial);
  const auto held = static_cast<std::uint64_t>(info.st_size);
  if (offset != held) {
    return upload_error(UploadErrc::kWrongOffset,
                        "the upload holds " + std::to_string(held) + " bytes; send from there");
  }
  for (std::size_t done = 0; done < bytes.size();) {
    const auto n = ::pwrite(file.value, bytes.data() + done, bytes.size() - done,
                            static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      // Nothing half-written stays: the chunk is sent again from where the file ends.
      if (::ftruncate(file.value, static_cast<off_t>(held)) != 0) ::unlink(partial.c_str());
      return upload_error(UploadErrc::kIo, "cannot write " + partial + ": " + std::strerror(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  // On disk before it is acknowledged: the offset a client resumes from survives a crash, and a
  // large upload never piles up dirty pages that would stall the database's own fsyncs.
  if (::fdatasync(file.value) != 0)
    return upload_error(UploadErrc::kIo, "cannot write " + partial + ": " + std::strerror(errno));
  const std::uint64_t received = offset + bytes.size();
  if (received < size) return UploadState{size, received, false};
  if (sha256_file_hex(partial) != digest) {
    ::unlink(partial.c_str());
    return upload_error(UploadErrc::kMismatch, "the " + std::to_string(size) +
                                                   " bytes received do not hash to " + digest +
                                                   "; they were dropped, send the upload again");
  }
  if (auto dirs = private_dirs_for(ready); !dirs) return dirs.error();
  if (::rename(partial.c_str(), ready.c_str()) != 0)
    return upload_error(UploadErrc::kIo, "cannot keep " + ready + ": " + std::strerror(errno));
  ::chmod(ready.c_str(), 0400);
  return UploadState{size, size, true};
}

}  // namespace

const boost::system::error_category& upload_category() {
  static const UploadCategory category;
  return category;
}

boost::system::error_code make_error_code(UploadErrc code) {
  return {static_cast<int>(code), upload_category()};
}

UploadStore::UploadStore(std::string root, std::uint64_t max_bytes)
    : root_(std::move(root)), max_bytes_(max_bytes) {}

Task<Result<UploadState>> UploadStore::put(UserIdentity owner, std::string digest,
                                           std::uint64_t size, std::uint64_t offset,
                                           std::string bytes) {
  std::function<Result<UploadState>()> write = [root = root_, max = max_bytes_, uid = owner.uid,
                                                digest = std::move(digest), size, offset,
                                                bytes = std::move(bytes)] {
    return write_chunk(root, max, uid, digest, size, offset, bytes);
  };
  co_return co_await run_blocking<Result<UploadState>>(std::move(write));
}

Task<Result<UploadState>> UploadStore::state(UserIdentity owner, std::string digest,
                                             std::uint64_t size) {
  if (auto checked = check_request(digest, size, max_bytes_); !checked) co_return checked.error();
  std::function<UploadState()> look = [root = root_, uid = owner.uid, digest, size] {
    return state_now(root, uid, digest, size);
  };
  co_return co_await run_blocking<UploadState>(std::move(look));
}

Task<std::optional<std::string>> UploadStore::complete_file(UserIdentity owner,
                                                            std::string digest) {
  if (!is_sha256_hex(digest)) co_return std::nullopt;
  std::function<std::optional<std::string>()> find = [path = ready_path(root_, owner.uid, digest)] {
    if (!size_of(path)) return std::optional<std::string>();
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, AT_SYMLINK_NOFOLLOW);  // used: kept longer
    return std::optional<std::string>(path);
  };
  co_return co_await run_blocking<std::optional<std::string>>(std::move(find));
}

Task<void> UploadStore::prune(Duration age) {
  std::function<bool()> sweep = [root = root_, age] {
    const auto horizon = fs::file_time_type::clock::now() - age;
    std::error_code ec;
    for (const char* kind : {"/partial", "/ready"}) {
      for (auto it = fs::recursive_directory_iterator(root + kind, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::error_code stat_error;
        if (!it->is_regular_file(stat_error)) continue;
        if (it->last_write_time(stat_error) < horizon) fs::remove(it->path(), stat_error);
      }
      ec.clear();
    }
    return true;
  };
  co_await run_blocking<bool>(std::move(sweep));
}

}  // namespace skyd::daemon
