#include "reactor/small_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace skyd {
namespace fs = std::filesystem;

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

Result<void> write_small_file(const std::string& path, const std::string& text, fs::perms perms) {
  auto failed = [&](int error, const std::string& what) -> Result<void> {
    return make_error(boost::system::error_code(error, boost::system::system_category()),
                      "cannot write " + path + ": " + what);
  };
  const std::string temporary = path + ".tmp";
  // Created with the final permissions, so a secret is never readable by others, even briefly.
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        static_cast<mode_t>(perms) & 0777);
  if (fd < 0) return failed(errno, "open");
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      return failed(error, "write");
    }
    written += static_cast<std::size_t>(n);
  }
  // The umask may have narrowed the mode; a file that already existed kept its old one.
  if (::fchmod(fd, static_cast<mode_t>(perms) & 0777) != 0) {
    const int error = errno;
    ::close(fd);
    return failed(error, "chmod");
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return failed(errno, "rename");
  return {};
}

}  // namespace skyd
