#pragma once
// The output of one task attempt: appended as it arrives, read back by byte offset while the task
// runs, bounded by a size cap. Readers can wait for bytes past their offset. Belongs to one shard.

#include "reactor/event.hpp"

#include <cstdint>
#include <string>

namespace skyd::skylet {

class AttemptLog {
 public:
  AttemptLog(asio::any_io_executor executor, std::string path, std::uint64_t cap_bytes);
  ~AttemptLog();
  AttemptLog(const AttemptLog&) = delete;
  AttemptLog& operator=(const AttemptLog&) = delete;

  // Appends output (writes are bounded: at most one pipe read at a time). Past the cap, one marker
  // line is written and the rest dropped, so a chatty task cannot fill the disk.
  void append(std::string_view bytes);
  // No more output will come.
  void close();

  // Up to `limit` bytes from `offset` (a bounded pread).
  std::string read(std::uint64_t offset, std::size_t limit) const;
  // Waits until the log grows past `offset` or is closed.
  Task<void> wait_past(std::uint64_t offset);

  std::uint64_t size() const { return size_; }
  bool closed() const { return closed_; }
  bool truncated() const { return truncated_; }
  const std::string& path() const { return path_; }

 private:
  void write_all(std::string_view bytes);

  std::string path_;
  int fd_ = -1;
  std::uint64_t cap_;
  std::uint64_t size_ = 0;
  bool closed_ = false;
  bool truncated_ = false;
  Notifier grew_;
};

}  // namespace skyd::skylet
