#include "cli/show_gpus_command.hpp"

#include "cli/table.hpp"
#include "providers/catalog/catalog.hpp"
#include "providers/catalog/suggest.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <optional>

namespace skyd::cli {
namespace {

constexpr std::string_view kUsage = "usage: sky show-gpus [NAME[:COUNT]] [--cloud CLOUD]\n";
constexpr double kNone = std::numeric_limits<double>::infinity();

// kNone: nothing sold there; NaN: sold, but at a price the catalog does not know.
std::string price(double value) {
  if (value == kNone) return "-";
  if (std::isnan(value)) return "unknown";
  return "$ " + format_fixed(value, 3);
}

// The cheaper of a running minimum and a price; a known price beats an unknown one (NaN).
double cheaper(double so_far, std::optional<double> price) {
  if (!price) return so_far == kNone ? std::nan("") : so_far;
  if (std::isnan(so_far)) return *price;
  return std::min(so_far, *price);
}

bool iequals(const std::string& a, const std::string& b) {
  return to_upper(a) == to_upper(b);
}

}  // namespace

std::string render_gpus(const std::string& name, double count, const std::string& cloud) {
  const auto in_use = catalog::current();
  const auto& offerings = in_use->offerings();
  auto selected = [&](const catalog::Offering& o) {
    return o.has_accelerator() && (cloud.empty() || o.cloud == cloud) &&
           (name.empty() || iequals(o.accelerator_name, name)) &&
           (count <= 0 || o.accelerator_count == count);
  };
  if (name.empty()) {
    // One row per accelerator: the counts sold, the clouds, and the cheapest prices.
    struct Summary {
      std::vector<double> counts;
      std::vector<std::string> clouds;
      double on_demand = kNone;
      double spot = kNone;
    };
    std::vector<std::pair<std::string, Summary>> rows;
    for (const auto& o : offerings) {
      if (!selected(o)) continue;
      auto row = std::find_if(rows.begin(), rows.end(),
                              [&](auto& r) { return r.first == o.accelerator_name; });
      if (row == rows.end()) row = rows.insert(rows.end(), {o.accelerator_name, Summary{}});
      Summary& s = row->second;
      if (std::find(s.counts.begin(), s.counts.end(), o.accelerator_count) == s.counts.end()) {
        s.counts.push_back(o.accelerator_count);
      }
      if (std::find(s.clouds.begin(), s.clouds.end(), o.cloud) == s.clouds.end()) {
        s.clouds.push_back(o.cloud);
      }
      s.on_demand = cheaper(s.on_demand, o.price);
      if (o.spot) s.spot = cheaper(s.spot, o.spot_price);
    }
    Table table({"GPU", "AVAILABLE_QUANTITIES", "CLOUDS", "FROM ($/hr)", "SPOT FROM ($/hr)"});
    for (auto& [gpu, s] : rows) {
      std::sort(s.counts.begin(), s.counts.end());
      std::string counts, clouds;
      for (double c : s.counts) counts += (counts.empty() ? "" : ", ") + format_number(c);
      for (const auto& c : s.clouds) clouds += (clouds.empty() ? "" : ", ") + to_upper(c);
      table.add_row({gpu, counts, clouds, price(s.on_demand), price(s.spot)});
    }
    return table.render() + price_sources(*in_use, rows.size() ? cloud : "-");
  }
  // One row per (cloud, instance type): the cheapest region on demand, the cheapest spot zone.
  struct Row {
    const catalog::Offering* offering;
    double on_demand = kNone;
    std::string region;
    double spot = kNone;
  };
  std::vector<Row> rows;
  for (const auto& o : offerings) {
    if (!selected(o)) continue;
    auto row = std::find_if(rows.begin(), rows.end(), [&](const Row& r) {
      return r.offering->cloud == o.cloud && r.offering->instance_type == o.instance_type &&
             r.offering->accelerator_name == o.accelerator_name &&
             r.offering->accelerator_count == o.accelerator_count;
    });
    if (row == rows.end()) row = rows.insert(rows.end(), Row{&o, kNone, "", kNone});
    const double before = row->on_demand;
    row->on_demand = cheaper(row->on_demand, o.price);
    if (row->region.empty() || (o.price && row->on_demand != before)) row->region = o.region;
    if (o.spot) row->spot = cheaper(row->spot, o.spot_price);
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.offering->accelerator_count != b.offering->accelerator_count) {
      return a.offering->accelerator_count < b.offering->accelerator_count;
    }
    if (std::isnan(a.on_demand) != std::isnan(b.on_demand)) return !std::isnan(a.on_demand);
    return a.on_demand < b.on_demand;
  });
  Table table({"GPU", "QTY", "CLOUD", "INSTANCE_TYPE", "DEVICE_MEM", "vCPUs", "HOST_MEM",
               "HOURLY_PRICE", "HOURLY_SPOT_PRICE", "REGION"});
  for (const auto& row : rows) {
    const auto& o = *row.offering;
    table.add_row({o.accelerator_name, format_number(o.accelerator_count), to_upper(o.cloud),
                   o.instance_type, format_number(o.accelerator_memory_gb) + "GB",
                   format_number(o.vcpus), format_number(o.memory_gb) + "GB", price(row.on_demand),
                   price(row.spot), row.region});
  }
  return table.render() + price_sources(*in_use, rows.empty() ? "-" : cloud);
}

std::string describe_provenance(const catalog::Provenance& provenance) {
  std::string text = provenance.source;
  if (!provenance.date.empty()) text += ", as of " + provenance.date;
  if (provenance.rows_skipped > 0) {
    // SkyPilot's GCP file prices attachable GPUs in rows of their own, not combined yet.
    text +=
        "; " + std::to_string(provenance.rows_skipped) + " rows without an instance type not used";
  }
  return text;
}

std::string price_sources(const catalog::Catalog& catalog, const std::string& cloud) {
  if (cloud == "-") return "";
  std::string out = "\nPrices ($/hr; \"unknown\": no price known, ranked last):\n";
  for (const auto& name : catalog.clouds()) {
    if (name == "local" || (!cloud.empty() && name != cloud)) continue;
    const catalog::Provenance* provenance = catalog.provenance(name);
    if (!provenance) continue;
    out += "  " + to_upper(name) + ": " + describe_provenance(*provenance) + "\n";
  }
  return out;
}

int show_gpus_command(const std::vector<std::string>& args) {
  std::string name;
  double count = 0;
  std::string cloud;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--cloud" || arg == "--infra") {
      if (i + 1 >= args.size()) {
        std::cerr << "Error: " << arg << " needs a value\n" << kUsage;
        return 2;
      }
      cloud = args[++i];
      for (auto& c : cloud) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (arg.starts_with("-") || !name.empty()) {
      std::cerr << "Error: unexpected argument " << arg << "\n" << kUsage;
      return 2;
    } else {
      name = arg;
      if (const std::size_t colon = name.find(':'); colon != std::string::npos) {
        char* end = nullptr;
        count = std::strtod(name.c_str() + colon + 1, &end);
        if (*end != '\0' || count <= 0) {
          std::cerr << "Error: expected NAME or NAME:COUNT, got " << arg << "\n" << kUsage;
          return 2;
        }
        name.resize(colon);
      }
    }
  }
  const auto in_use = catalog::current();
  const auto& known_catalog = *in_use;
  if (!cloud.empty() && !known_catalog.has_cloud(cloud)) {
    std::cerr << "Error: unknown cloud `" << cloud << "`"
              << catalog::did_you_mean(cloud, known_catalog.clouds()) << "\n";
    return 1;
  }
  if (!name.empty()) {
    const auto known = known_catalog.accelerators();
    if (std::none_of(known.begin(), known.end(), [&](auto& k) { return iequals(k, name); })) {
      std::cerr << "Error: unknown accelerator `" << name << "`"
                << catalog::did_you_mean(name, known) << "\n";
      return 1;
    }
  }
  const std::string text = render_gpus(name, count, cloud);
  if (text.find("Prices (") == std::string::npos) {  // only the header: nothing matched
    std::cerr << "Error: no " << name << (count > 0 ? ":" + format_number(count) : "")
              << " offering" << (cloud.empty() ? "" : " in " + cloud) << "\n";
    return 1;
  }
  std::cout << text;
  return 0;
}

}  // namespace skyd::cli
