#include "cli/dial_stdio.hpp"

#include "cli/local_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>

namespace skyd::cli {
namespace {

bool write_all(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, static_cast<size_t>(size));
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    data += written;
    size -= written;
  }
  return true;
}

int connect_to(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Copies both ways until skyd closes its side; the client's end of input is passed on as a
// half-close, so a request still gets its answer.
int splice(int daemon) {
  bool input_open = true;
  char buffer[64 * 1024];
  for (;;) {
    pollfd fds[2] = {{daemon, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    if (::poll(fds, input_open ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    if (fds[0].revents) {
      const ssize_t got = ::read(daemon, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return 0;                                // skyd ended the conversation
      if (!write_all(STDOUT_FILENO, buffer, got)) return 0;  // the client went away
    }
    if (input_open && fds[1].revents) {
      const ssize_t got = ::read(STDIN_FILENO, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        input_open = false;
        ::shutdown(daemon, SHUT_WR);
      } else if (!write_all(daemon, buffer, got)) {
        return 0;
      }
    }
  }
}

}  // namespace

int dial_stdio_command(const std::vector<std::string>& args) {
  std::optional<std::string> socket_flag;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--socket" && i + 1 < args.size()) {
      socket_flag = args[++i];
    } else {
      std::cerr << "skyd dial-stdio: unexpected '" << args[i]
                << "'\nusage: skyd dial-stdio [--socket PATH]\n";
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  const std::string path = find_local_socket(socket_flag);
  const int daemon = connect_to(path);
  if (daemon < 0) {
    std::cerr << "skyd dial-stdio: cannot reach skyd at " << path << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  const int status = splice(daemon);
  ::close(daemon);
  return status;
}

}  // namespace skyd::cli
