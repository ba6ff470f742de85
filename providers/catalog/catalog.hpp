#pragma once
// The catalog: every (cloud, instance type, region, zone) offering with its shape and prices, and
// where those prices come from. The built-in catalog is compiled from data/<cloud>/vms.csv into
// the binary, so `sky` and `skyd` need no data files at run time; a catalog directory (SkyPilot's
// layout: <dir>/aws/vms.csv, <dir>/gcp/vms.csv) replaces a cloud's built-in file. A Catalog is
// immutable once built; the process-wide one in use is swapped whole (see current()).

#include "reactor/error.hpp"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace skyd::catalog {

// One instance type in one zone. On-demand prices are per region (repeated for each of its zones);
// spot prices are per zone. A price nobody has told us is unknown, never made up: such offerings
// rank after every priced one.
struct Offering {
  std::string cloud;
  std::string instance_type;
  double vcpus = 0;
  double memory_gb = 0;
  std::string accelerator_name;  // empty: no accelerator
  double accelerator_count = 0;
  double accelerator_memory_gb = 0;  // per accelerator; 0: not known
  std::string region;
  std::string zone;
  std::optional<double> price;       // on-demand $/hour; empty: unknown
  bool spot = false;                 // the zone sells this type as spot
  std::optional<double> spot_price;  // spot $/hour when known (only where `spot`)
  // EC2: how many EFA interfaces the type takes (one per network card on the largest types;
  // network_tier: best attaches them all); 0: no EFA.
  int max_efa_interfaces = 0;

  bool has_accelerator() const { return !accelerator_name.empty(); }
  bool efa_supported() const { return max_efa_interfaces > 0; }
};

// Where one cloud's rows and prices come from, for `sky show-gpus` and the plan table.
struct Provenance {
  std::string source;            // "built-in (…)", a file path, "AWS APIs (sky catalog refresh)"
  std::string date;              // YYYY-MM-DD the prices were taken; empty: not known
  std::size_t rows_skipped = 0;  // rows without an instance type (GPUs sold only attached)
};

class Catalog {
 public:
  Catalog() = default;

  // The catalog shipped with the project (aws, gcp, local).
  static const Catalog& builtin();

  // Parses one cloud's file in SkyPilot's vms.csv format (see vms_csv.hpp) and replaces that
  // cloud's rows. `file_name` names the file in errors ("aws/vms.csv line 7: …").
  Result<void> set_cloud(std::string_view cloud, std::string_view csv_text,
                         std::string_view file_name, Provenance provenance);

  // Replaces a cloud's rows with already parsed offerings.
  void set_cloud_offerings(std::string_view cloud, std::vector<Offering> offerings,
                           Provenance provenance);

  const std::vector<Offering>& offerings() const { return offerings_; }

  // Distinct names, in catalog order; `cloud` empty means every cloud.
  std::vector<std::string> clouds() const;
  const std::vector<std::string>& regions(std::string_view cloud) const;
  const std::vector<std::string>& zones(std::string_view cloud) const;
  const std::vector<std::string>& instance_types(std::string_view cloud) const;
  const std::vector<std::string>& accelerators() const;

  bool has_cloud(std::string_view cloud) const;
  const Provenance* provenance(std::string_view cloud) const;

 private:
  struct Names {
    std::vector<std::string> ordered;
    std::unordered_set<std::string> seen;
    void add(const std::string& name);
  };
  struct CloudNames {
    Names regions, zones, instance_types;
  };
  void reindex();
  const CloudNames& names_of(std::string_view cloud) const;

  std::vector<Offering> offerings_;
  std::map<std::string, Provenance, std::less<>> provenance_;
  std::map<std::string, CloudNames, std::less<>> names_;  // "" holds every cloud's names
  Names accelerators_;
  std::vector<std::string> clouds_;
};

// The on-demand $/hour of an instance type in a region (what a spot run is compared with).
std::optional<double> on_demand_price(const Catalog& catalog, std::string_view cloud,
                                      std::string_view region, std::string_view instance_type);

// The catalog in use by this process: the built-in one until install() replaces it (skyd and sky
// install the config's catalog_dir at start-up; skyd again after a refresh). Readers hold the
// pointer for as long as they use the rows, so a swap never pulls rows from under them.
std::shared_ptr<const Catalog> current();
void install(std::shared_ptr<const Catalog> catalog);

// The text of the built-in catalog, one entry per cloud (generated at build time).
struct EmbeddedCsv {
  std::string_view cloud;
  std::string_view text;        // data/<cloud>/vms.csv
  std::string_view provenance;  // data/<cloud>/provenance (see catalog_dir.hpp), may be empty
};
const std::vector<EmbeddedCsv>& embedded_catalog_csv();

}  // namespace skyd::catalog
