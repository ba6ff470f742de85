#include "providers/storage/file_pieces.hpp"

#include "providers/provider.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/sleep.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace skyd::providers::storage {

Task<Result<FilePiece>> read_piece(std::string path, std::uint64_t offset, std::uint64_t length) {
  std::function<Result<FilePiece>()> read = [path, offset, length]() -> Result<FilePiece> {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return make_error(ProviderErrc::kInvalid,
                        "cannot open " + path + ": " + std::strerror(errno));
    FilePiece piece;
    piece.bytes.resize(length);
    std::uint64_t done = 0;
    while (done < length) {
      const auto n =
          ::pread(fd, piece.bytes.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      done += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    if (done != length) {
      return make_error(ProviderErrc::kInvalid,
                        "cannot read " + path + " at " + std::to_string(offset) +
                            " (it is shorter than it was: changed while uploading?)");
    }
    piece.sha256_hex = sha256_hex(piece.bytes);
    return piece;
  };
  co_return co_await run_blocking<Result<FilePiece>>(std::move(read));
}

Task<Result<void>> write_piece(int fd, std::uint64_t offset, std::string bytes) {
  std::function<Result<void>()> write = [fd, offset, bytes = std::move(bytes)]() -> Result<void> {
    return write_chunk_at(fd, offset, bytes);
  };
  co_return co_await run_blocking<Result<void>>(std::move(write));
}

Task<Result<std::uint64_t>> file_size(std::string path) {
  std::function<Result<std::uint64_t>()> look = [path]() -> Result<std::uint64_t> {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
      return make_error(ProviderErrc::kInvalid,
                        "cannot read " + path + ": " + std::strerror(errno));
    if (!S_ISREG(info.st_mode))
      return make_error(ProviderErrc::kInvalid, path + " is not a regular file");
    return static_cast<std::uint64_t>(info.st_size);
  };
  co_return co_await run_blocking<Result<std::uint64_t>>(std::move(look));
}

OwnedFd::~OwnedFd() {
  if (fd >= 0) ::close(fd);
}

Task<Result<int>> open_for_writing(std::string path) {
  std::function<Result<int>()> open = [path]() -> Result<int> {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return make_error(ProviderErrc::kInvalid,
                        "cannot write " + path + ": " + std::strerror(errno));
    return fd;
  };
  co_return co_await run_blocking<Result<int>>(std::move(open));
}

Result<void> write_chunk_at(int fd, std::uint64_t offset, std::string_view chunk) {
  std::size_t done = 0;
  while (done < chunk.size()) {
    const auto n =
        ::pwrite(fd, chunk.data() + done, chunk.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return make_error(ProviderErrc::kInvalid,
                        std::string("cannot write the download: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return Result<void>{};
}

}  // namespace skyd::providers::storage
