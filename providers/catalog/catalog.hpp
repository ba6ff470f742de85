#pragma once
// The catalog: every (cloud, instance type, region, zone) offering with its shape and prices.
// The built-in catalog is compiled from data/*.csv (one file per cloud) into the binary, so `sky`
// and `skyd` need no data files at run time. Immutable after construction; safe to share.

#include "reactor/error.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

// One instance type in one zone. On-demand prices are per region (repeated for each of its zones);
// spot prices are per zone, and absent where the zone sells no spot capacity.
struct Offering {
  std::string cloud;
  std::string instance_type;
  double vcpus = 0;
  double memory_gb = 0;
  std::string accelerator_name;  // empty: no accelerator
  double accelerator_count = 0;
  double accelerator_memory_gb = 0;
  std::string region;
  std::string zone;
  double price = 0;  // on-demand $/hour
  std::optional<double> spot_price;

  bool has_accelerator() const { return !accelerator_name.empty(); }
};

class Catalog {
 public:
  Catalog() = default;

  // The catalog shipped with the project (aws, gcp, local).
  static const Catalog& builtin();

  // Parses one cloud's CSV (header: instance_type,vcpus,memory_gb,accelerator_name,
  // accelerator_count,accelerator_memory_gb,region,zone,price,spot_price) and adds its rows.
  Result<void> add_csv(std::string_view cloud, std::string_view csv_text);

  const std::vector<Offering>& offerings() const { return offerings_; }

  // Distinct names, in catalog order.
  std::vector<std::string> clouds() const;
  std::vector<std::string> regions(std::string_view cloud) const;
  std::vector<std::string> zones(std::string_view cloud) const;
  std::vector<std::string> instance_types(std::string_view cloud) const;
  std::vector<std::string> accelerators() const;

  bool has_cloud(std::string_view cloud) const;

 private:
  std::vector<Offering> offerings_;
};

// The on-demand $/hour of an instance type in a region (what a spot run is compared with).
std::optional<double> on_demand_price(const Catalog& catalog, std::string_view cloud,
                                      std::string_view region, std::string_view instance_type);

// The CSV text of the built-in catalog, one entry per cloud (generated at build time).
struct EmbeddedCsv {
  std::string_view cloud;
  std::string_view text;
};
const std::vector<EmbeddedCsv>& embedded_catalog_csv();

}  // namespace skyd::catalog
