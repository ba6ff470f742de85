#pragma once
// Bounded pieces of local files, read and written on the blocking pool (reactor/blocking.hpp) so a
// shard never waits on the disk for more than a handful of microseconds: S3 parts are read at
// their offset one at a time (never the whole file), ranges of a download written at theirs.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <cstdint>
#include <string>

namespace skyd::providers::storage {

struct FilePiece {
  std::string bytes;
  std::string sha256_hex;  // of `bytes`: S3's x-amz-content-sha256, hashed off the shard too
};

// `length` bytes at `offset`; kInvalid when the file cannot be read or is shorter (it changed).
Task<Result<FilePiece>> read_piece(std::string path, std::uint64_t offset, std::uint64_t length);
// Writes `bytes` at `offset` into an open file descriptor.
Task<Result<void>> write_piece(int fd, std::uint64_t offset, std::string bytes);
// The size of a regular file; kInvalid when it is not one.
Task<Result<std::uint64_t>> file_size(std::string path);

// An open file descriptor closed when it goes out of scope (also when a cancellation unwinds).
struct OwnedFd {
  int fd = -1;
  OwnedFd() = default;
  explicit OwnedFd(int owned) : fd(owned) {}
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd();
};
// Opens `path` for a download (created or truncated, 0644), on the blocking pool.
Task<Result<int>> open_for_writing(std::string path);
// Writes one arrived chunk of a streamed download at `offset`, on the caller's thread: a chunk is
// at most the HTTP client's 16 KiB read and goes to the page cache, so the shard is not held.
Result<void> write_chunk_at(int fd, std::uint64_t offset, std::string_view chunk);

}  // namespace skyd::providers::storage
