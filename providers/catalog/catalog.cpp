#include "providers/catalog/catalog.hpp"

#include "providers/catalog/catalog_error.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>

namespace skyd::catalog {
namespace {

constexpr std::string_view kHeader =
    "instance_type,vcpus,memory_gb,accelerator_name,accelerator_count,accelerator_memory_gb,"
    "region,zone,price,spot_price";
constexpr std::size_t kColumns = 10;

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = line.find(',', start);
    fields.push_back(line.substr(start, comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return fields;
}

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Distinct non-empty values of `get` over the offerings of `cloud` (every cloud when empty).
template <typename Get>
std::vector<std::string> distinct(const std::vector<Offering>& offerings, std::string_view cloud,
                                  Get get) {
  std::vector<std::string> names;
  for (const auto& offering : offerings) {
    if (!cloud.empty() && offering.cloud != cloud) continue;
    const std::string& name = get(offering);
    if (name.empty()) continue;
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

}  // namespace

Result<void> Catalog::add_csv(std::string_view cloud, std::string_view csv_text) {
  std::vector<Offering> rows;
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start < csv_text.size()) {
    std::size_t end = csv_text.find('\n', start);
    if (end == std::string_view::npos) end = csv_text.size();
    std::string_view line = csv_text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_number == 1) {
      if (line != kHeader) {
        return make_error(
            CatalogErrc::kBadData,
            std::string(cloud) + " catalog: unexpected header `" + std::string(line) + "`");
      }
      continue;
    }
    const auto fields = split_fields(line);
    auto bad = [&](std::string_view what) {
      return make_error(CatalogErrc::kBadData, std::string(cloud) + " catalog line " +
                                                   std::to_string(line_number) + ": " +
                                                   std::string(what));
    };
    if (fields.size() != kColumns) return bad("expected 10 fields");
    Offering offering;
    offering.cloud = std::string(cloud);
    offering.instance_type = std::string(fields[0]);
    auto vcpus = parse_number(fields[1]);
    auto memory = parse_number(fields[2]);
    if (offering.instance_type.empty() || !vcpus || !memory) return bad("bad instance shape");
    offering.vcpus = *vcpus;
    offering.memory_gb = *memory;
    offering.accelerator_name = std::string(fields[3]);
    if (offering.has_accelerator()) {
      auto count = parse_number(fields[4]);
      auto device_memory = parse_number(fields[5]);
      if (!count || *count <= 0 || !device_memory) return bad("bad accelerator");
      offering.accelerator_count = *count;
      offering.accelerator_memory_gb = *device_memory;
    }
    offering.region = std::string(fields[6]);
    offering.zone = std::string(fields[7]);
    auto price = parse_number(fields[8]);
    if (offering.region.empty() || offering.zone.empty() || !price)
      return bad("bad location/price");
    offering.price = *price;
    if (!fields[9].empty()) {
      auto spot = parse_number(fields[9]);
      if (!spot) return bad("bad spot price");
      offering.spot_price = *spot;
    }
    rows.push_back(std::move(offering));
  }
  if (line_number == 0) {
    return make_error(CatalogErrc::kBadData, std::string(cloud) + " catalog is empty");
  }
  offerings_.insert(offerings_.end(), std::make_move_iterator(rows.begin()),
                    std::make_move_iterator(rows.end()));
  return {};
}

const Catalog& Catalog::builtin() {
  static const Catalog catalog = [] {
    Catalog built;
    for (const auto& csv : embedded_catalog_csv()) {
      auto added = built.add_csv(csv.cloud, csv.text);
      // The embedded data is part of the build; a unit test parses it, so this cannot fail.
      if (!added) std::abort();
    }
    return built;
  }();
  return catalog;
}

std::vector<std::string> Catalog::clouds() const {
  return distinct(offerings_, "", [](const Offering& o) -> const std::string& { return o.cloud; });
}

std::vector<std::string> Catalog::regions(std::string_view cloud) const {
  return distinct(offerings_, cloud,
                  [](const Offering& o) -> const std::string& { return o.region; });
}

std::vector<std::string> Catalog::zones(std::string_view cloud) const {
  return distinct(offerings_, cloud,
                  [](const Offering& o) -> const std::string& { return o.zone; });
}

std::vector<std::string> Catalog::instance_types(std::string_view cloud) const {
  return distinct(offerings_, cloud,
                  [](const Offering& o) -> const std::string& { return o.instance_type; });
}

std::vector<std::string> Catalog::accelerators() const {
  return distinct(offerings_, "",
                  [](const Offering& o) -> const std::string& { return o.accelerator_name; });
}

bool Catalog::has_cloud(std::string_view cloud) const {
  return std::any_of(offerings_.begin(), offerings_.end(),
                     [&](const Offering& o) { return o.cloud == cloud; });
}

std::optional<double> on_demand_price(const Catalog& catalog, std::string_view cloud,
                                      std::string_view region, std::string_view instance_type) {
  for (const auto& offering : catalog.offerings()) {
    if (offering.cloud == cloud && offering.region == region &&
        offering.instance_type == instance_type)
      return offering.price;
  }
  return std::nullopt;
}

}  // namespace skyd::catalog
