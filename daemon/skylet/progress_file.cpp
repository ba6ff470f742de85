#include "daemon/skylet/progress_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>

namespace skyd::skylet {
namespace {

ProgressRead bad(std::string why, std::string_view text) {
  std::string shown;
  for (char c : text.substr(0, 32)) {
    const auto byte = static_cast<unsigned char>(c);
    shown += std::isprint(byte) ? c : '?';
  }
  ProgressRead read;
  read.kind = ProgressRead::Kind::kBad;
  read.why = std::move(why) + " (\"" + shown + (text.size() > 32 ? "...\")" : "\")");
  return read;
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

}  // namespace

ProgressRead parse_progress(std::string_view text) {
  if (text.empty()) return {};
  // Without its newline the write may not be complete yet.
  if (text.back() != '\n') return bad("not a newline-terminated number", text);
  std::string_view number = text.substr(0, text.size() - 1);
  while (!number.empty() && is_blank(number.front())) number.remove_prefix(1);
  while (!number.empty() && is_blank(number.back())) number.remove_suffix(1);
  if (number.empty()) return bad("no number", text);
  std::int64_t seconds = 0;
  for (char c : number) {
    if (c < '0' || c > '9') return bad("not a whole number of seconds", text);
    seconds = seconds * 10 + (c - '0');
    if (seconds > kMaxProgressSeconds) return bad("more seconds than a century", text);
  }
  ProgressRead read;
  read.kind = ProgressRead::Kind::kSeconds;
  read.seconds = seconds;
  return read;
}

ProgressRead read_progress_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return bad("not a regular file", "");
  }
  char buffer[kMaxProgressFileBytes + 1];
  std::size_t size = 0;
  while (size < sizeof buffer) {
    const ssize_t got = ::read(fd, buffer + size, sizeof buffer - size);
    if (got <= 0) break;
    size += static_cast<std::size_t>(got);
  }
  ::close(fd);
  const std::string_view text(buffer, size);
  if (size > kMaxProgressFileBytes)
    return bad("longer than " + std::to_string(kMaxProgressFileBytes) + " bytes", text);
  return parse_progress(text);
}

}  // namespace skyd::skylet
