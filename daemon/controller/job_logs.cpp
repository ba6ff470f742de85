#include "daemon/controller/job_logs.hpp"

#include "reactor/json.hpp"
#include "reactor/metrics.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace skyd::daemon {

JobLogs::JobLogs(std::string root, std::int64_t job_id)
    : dir_(root + "/" + std::to_string(job_id)) {}

std::string JobLogs::attempt_log(int task, int attempt, int rank) const {
  std::string path = dir_ + "/task-" + std::to_string(task) + "/attempt-" + std::to_string(attempt);
  if (rank > 0) path += ".node-" + std::to_string(rank);
  return path + ".log";
}

void JobLogs::append(const std::string& path, std::string_view bytes) {
  static auto& stored =
      metrics::registry().counter("skyd_log_bytes_total", "Bytes of job logs written", {}).with();
  constexpr int kAppend = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;
  int fd = ::open(path.c_str(), kAppend, 0640);
  if (fd < 0 && errno == ENOENT) {
    // Only a file's first line makes its directories: creating them on every line was a tenth
    // of skyd's CPU in a burst of launches (a stat or mkdir per path component).
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    fd = ::open(path.c_str(), kAppend, 0640);
  }
  if (fd < 0) return;
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written <= 0) break;
    bytes.remove_prefix(static_cast<std::size_t>(written));
    stored.inc(static_cast<std::uint64_t>(written));
  }
  ::close(fd);
}

std::uint64_t JobLogs::size_of(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

std::string JobLogs::read(const std::string& path, std::uint64_t offset, std::size_t limit) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out(limit, '\0');
  const auto got = ::pread(fd, out.data(), limit, static_cast<off_t>(offset));
  ::close(fd);
  out.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return out;
}

void JobLogs::record(std::string_view line) const {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &utc);
  append(controller_log(), std::string(stamp) + " " + std::string(line) + "\n");
}

void JobLogs::add_attempt(int task, int attempt, int nodes, std::string_view marker) const {
  for (const auto& known : attempts(task)) {
    if (known.attempt == attempt) return;
  }
  Json entry = Json::object();
  entry.set("attempt", attempt);
  entry.set("nodes", nodes);
  entry.set("marker", marker);
  append(dir_ + "/task-" + std::to_string(task) + "/attempts.jsonl", entry.dump() + "\n");
}

std::vector<AttemptMarker> JobLogs::attempts(int task) const {
  std::vector<AttemptMarker> out;
  std::ifstream in(dir_ + "/task-" + std::to_string(task) + "/attempts.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    auto entry = parse_json(line);
    if (!entry) continue;
    AttemptMarker marker;
    if (const Json* n = entry->find("attempt"); n && n->as_int())
      marker.attempt = static_cast<int>(*n->as_int());
    if (const Json* n = entry->find("nodes"); n && n->as_int())
      marker.nodes = static_cast<int>(*n->as_int());
    if (const Json* m = entry->find("marker"); m && m->as_string())
      marker.marker = std::string(*m->as_string());
    out.push_back(std::move(marker));
  }
  return out;
}

}  // namespace skyd::daemon
