#include "providers/catalog/catalog_dir.hpp"

#include "providers/catalog/catalog_error.hpp"
#include "providers/catalog/vms_csv.hpp"
#include "reactor/small_files.hpp"
#include "reactor/utc_time.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace skyd::catalog {
namespace {

namespace fs = std::filesystem;
constexpr auto kReadable =
    fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;

std::string modification_date(const fs::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return "";
  return format_utc(status.st_mtime, "%Y-%m-%d");
}

Result<std::string> read_whole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(CatalogErrc::kBadData, path.string() + ": cannot be read");
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Provenance parse_provenance(std::string_view text) {
  Provenance provenance;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    start = end + 1;
    const std::size_t equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, equals);
    const std::string value(line.substr(equals + 1));
    if (key == "source") provenance.source = value;
    if (key == "date") provenance.date = value;
  }
  return provenance;
}

std::string format_provenance(const Provenance& provenance) {
  return "source=" + provenance.source + "\ndate=" + provenance.date + "\n";
}

Result<Catalog> load_catalog_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return make_error(CatalogErrc::kBadData, "catalog_dir " + dir + " is not a directory");
  }
  Catalog catalog = Catalog::builtin();
  for (std::string_view cloud : kDirectoryClouds) {
    const fs::path file = fs::path(dir) / cloud / "vms.csv";
    if (!fs::exists(file, ec)) continue;
    auto text = read_whole(file);
    if (!text) return text.error();
    Provenance provenance;
    const fs::path described = fs::path(dir) / cloud / "provenance";
    if (fs::exists(described, ec)) provenance = parse_provenance(read_small_file(described));
    const std::string where = file.string() + (provenance.source.empty() ? "" : ": ");
    provenance.source = where + provenance.source;
    if (provenance.date.empty()) provenance.date = modification_date(file);
    if (auto added = catalog.set_cloud(cloud, *text, file.string(), std::move(provenance));
        !added) {
      return added.error();
    }
  }
  return catalog;
}

Result<void> write_catalog_file(const std::string& dir, std::string_view cloud,
                                const std::vector<Offering>& offerings,
                                const Provenance& provenance) {
  const fs::path folder = fs::path(dir) / cloud;
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) {
    return make_error(CatalogErrc::kBadData,
                      "cannot create " + folder.string() + ": " + ec.message());
  }
  if (auto written =
          write_small_file((folder / "vms.csv").string(), write_vms_csv(offerings), kReadable);
      !written) {
    return written;
  }
  return write_small_file((folder / "provenance").string(), format_provenance(provenance),
                          kReadable);
}

}  // namespace skyd::catalog
