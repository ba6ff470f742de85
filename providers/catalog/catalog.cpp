#include "providers/catalog/catalog.hpp"

#include "providers/catalog/catalog_dir.hpp"
#include "providers/catalog/vms_csv.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>

namespace skyd::catalog {

void Catalog::Names::add(const std::string& name) {
  if (name.empty() || seen.contains(name)) return;
  seen.insert(name);
  ordered.push_back(name);
}

Result<void> Catalog::set_cloud(std::string_view cloud, std::string_view csv_text,
                                std::string_view file_name, Provenance provenance) {
  auto parsed = parse_vms_csv(cloud, csv_text, file_name);
  if (!parsed) return parsed.error();
  provenance.rows_skipped = parsed->rows_skipped;
  set_cloud_offerings(cloud, std::move(parsed->offerings), std::move(provenance));
  return {};
}

void Catalog::set_cloud_offerings(std::string_view cloud, std::vector<Offering> offerings,
                                  Provenance provenance) {
  if (provenance_.contains(cloud)) {
    std::erase_if(offerings_, [&](const Offering& o) { return o.cloud == cloud; });
  }
  offerings_.insert(offerings_.end(), std::make_move_iterator(offerings.begin()),
                    std::make_move_iterator(offerings.end()));
  provenance_[std::string(cloud)] = std::move(provenance);
  reindex();
}

void Catalog::reindex() {
  names_.clear();
  accelerators_ = {};
  clouds_.clear();
  CloudNames& all = names_[""];
  CloudNames* own = nullptr;
  const Offering* previous = nullptr;
  for (const auto& o : offerings_) {
    if (!previous || previous->cloud != o.cloud) {
      if (std::find(clouds_.begin(), clouds_.end(), o.cloud) == clouds_.end()) {
        clouds_.push_back(o.cloud);
      }
      own = &names_[o.cloud];
      previous = nullptr;
    }
    // Files are sorted by type and region: most rows repeat the previous row's names.
    for (CloudNames* names : {&all, own}) {
      if (!previous || previous->region != o.region) names->regions.add(o.region);
      names->zones.add(o.zone);
      if (!previous || previous->instance_type != o.instance_type) {
        names->instance_types.add(o.instance_type);
      }
    }
    if (!previous || previous->accelerator_name != o.accelerator_name) {
      accelerators_.add(o.accelerator_name);
    }
    previous = &o;
  }
}

const Catalog::CloudNames& Catalog::names_of(std::string_view cloud) const {
  static const CloudNames kEmpty;
  auto found = names_.find(cloud);
  return found == names_.end() ? kEmpty : found->second;
}

const Catalog& Catalog::builtin() {
  static const Catalog catalog = [] {
    Catalog built;
    for (const auto& csv : embedded_catalog_csv()) {
      auto provenance = parse_provenance(csv.provenance);
      provenance.source = "built-in " + std::string(csv.cloud) + "/vms.csv" +
                          (provenance.source.empty() ? "" : " (" + provenance.source + ")");
      auto added = built.set_cloud(csv.cloud, csv.text,
                                   "built-in " + std::string(csv.cloud) + "/vms.csv", provenance);
      // The embedded data is part of the build; a unit test parses it, so this cannot fail.
      if (!added) std::abort();
    }
    return built;
  }();
  return catalog;
}

std::vector<std::string> Catalog::clouds() const {
  return clouds_;
}

const std::vector<std::string>& Catalog::regions(std::string_view cloud) const {
  return names_of(cloud).regions.ordered;
}

const std::vector<std::string>& Catalog::zones(std::string_view cloud) const {
  return names_of(cloud).zones.ordered;
}

const std::vector<std::string>& Catalog::instance_types(std::string_view cloud) const {
  return names_of(cloud).instance_types.ordered;
}

const std::vector<std::string>& Catalog::accelerators() const {
  return accelerators_.ordered;
}

bool Catalog::has_cloud(std::string_view cloud) const {
  return std::find(clouds_.begin(), clouds_.end(), cloud) != clouds_.end();
}

const Provenance* Catalog::provenance(std::string_view cloud) const {
  auto found = provenance_.find(cloud);
  return found == provenance_.end() ? nullptr : &found->second;
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

namespace {
// Never-freed holder of the process's catalog. std::atomic<std::shared_ptr> is C++20 but
// libstdc++ 12 lacks it; the free atomic_load/atomic_store overloads do the same job.
std::shared_ptr<const Catalog>& current_slot() {
  static std::shared_ptr<const Catalog> slot(std::shared_ptr<const Catalog>(), &Catalog::builtin());
  return slot;
}
}  // namespace

std::shared_ptr<const Catalog> current() {
  return std::atomic_load(&current_slot());
}

void install(std::shared_ptr<const Catalog> catalog) {
  std::atomic_store(&current_slot(), std::move(catalog));
}

}  // namespace skyd::catalog
