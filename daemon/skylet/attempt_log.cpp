#include "daemon/skylet/attempt_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <stdexcept>

namespace skyd::skylet {

AttemptLog::AttemptLog(asio::any_io_executor executor, std::string path, std::uint64_t cap_bytes)
    : path_(std::move(path)), cap_(cap_bytes), grew_(std::move(executor)) {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot open log " + path_);
  size_ = static_cast<std::uint64_t>(::lseek(fd_, 0, SEEK_END));
}

AttemptLog::~AttemptLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AttemptLog::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd_, bytes.data(), bytes.size());
    if (written <= 0) return;  // disk full or similar: the log stops growing, the task goes on
    size_ += static_cast<std::uint64_t>(written);
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void AttemptLog::append(std::string_view bytes) {
  if (bytes.empty() || truncated_) return;
  if (size_ + bytes.size() > cap_) {
    write_all(bytes.substr(0, cap_ > size_ ? static_cast<std::size_t>(cap_ - size_) : 0));
    write_all("\n[skylet: output truncated at " + std::to_string(cap_) + " bytes]\n");
    truncated_ = true;
  } else {
    write_all(bytes);
  }
  grew_.notify_all();
}

void AttemptLog::close() {
  closed_ = true;
  grew_.notify_all();
}

std::string AttemptLog::read(std::uint64_t offset, std::size_t limit) const {
  if (offset >= size_) return {};
  std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(limit, size_ - offset)), '\0');
  const auto got = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

Task<void> AttemptLog::wait_past(std::uint64_t offset) {
  while (size_ <= offset && !closed_) co_await grew_.wait();
}

}  // namespace skyd::skylet
