#include "providers/catalog/vms_csv.hpp"

#include "providers/catalog/catalog_error.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>

namespace skyd::catalog {
namespace {

enum Column : std::size_t {
  kInstanceType,
  kAcceleratorName,
  kAcceleratorCount,
  kVcpus,
  kMemory,
  kGpuInfo,
  kPrice,
  kSpotPrice,
  kRegion,
  kZone,
  kEfa,
  kMaxEfa,
  kColumnCount,
};
constexpr std::array<std::string_view, kColumnCount> kColumnNames{
    "InstanceType", "AcceleratorName", "AcceleratorCount", "vCPUs",  "MemoryGiB",
    "GpuInfo",      "Price",           "SpotPrice",        "Region", "AvailabilityZone",
    "EfaSupported", "MaxEfaInterfaces"};
constexpr std::string_view kUnknown = "unknown";

std::optional<double> parse_number(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

bool is_unknown(std::string_view text) {
  return text.empty() || text == kUnknown || text == "nan" || text == "NaN";
}

// The memory of one accelerator from SkyPilot's GpuInfo ("…'MemoryInfo': {'SizeInMiB': 81920}…").
double accelerator_memory_gb(std::string_view gpu_info) {
  constexpr std::string_view kKey = "'SizeInMiB':";
  const std::size_t at = gpu_info.find(kKey);
  if (at == std::string_view::npos) return 0;
  std::size_t start = at + kKey.size();
  while (start < gpu_info.size() && gpu_info[start] == ' ') ++start;
  std::size_t end = start;
  while (end < gpu_info.size() &&
         (std::isdigit(static_cast<unsigned char>(gpu_info[end])) || gpu_info[end] == '.'))
    ++end;
  return parse_number(gpu_info.substr(start, end - start)).value_or(0) / 1024;
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

std::string quote_if_needed(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string gpu_info_of(const Offering& offering) {
  if (!offering.has_accelerator() || offering.accelerator_memory_gb <= 0) return "";
  const long long mib = std::llround(offering.accelerator_memory_gb * 1024);
  return "{'Gpus': [{'Name': '" + offering.accelerator_name +
         "', 'Count': " + format_number(offering.accelerator_count) +
         ", 'MemoryInfo': {'SizeInMiB': " + std::to_string(mib) + "}}]}";
}

}  // namespace

bool split_csv_record(std::string_view line, std::vector<std::string_view>& fields,
                      std::string& scratch) {
  fields.clear();
  if (line.find('"') == std::string_view::npos) {  // the common case: views into the line
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = line.find(',', start);
      fields.push_back(line.substr(start, comma - start));
      if (comma == std::string_view::npos) return true;
      start = comma + 1;
    }
  }
  // Unquoted into `scratch`, reserved up front so the views into it stay valid.
  scratch.clear();
  scratch.reserve(line.size());
  std::size_t field_start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        scratch += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        scratch += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back(scratch.data() + field_start, scratch.size() - field_start);
      field_start = scratch.size();
    } else {
      scratch += c;
    }
  }
  fields.emplace_back(scratch.data() + field_start, scratch.size() - field_start);
  return !quoted;
}

Result<ParsedVmsCsv> parse_vms_csv(std::string_view cloud, std::string_view text,
                                   std::string_view file_name) {
  ParsedVmsCsv parsed;
  parsed.offerings.reserve(text.size() / 64);  // a row without GpuInfo is about 60 bytes
  std::array<std::optional<std::size_t>, kColumnCount> index{};
  std::vector<std::string_view> fields;
  std::string scratch;
  std::size_t line_number = 0;
  std::size_t start = 0;
  bool have_header = false;
  auto error_at = [&](std::string what) {
    return make_error(CatalogErrc::kBadData, std::string(file_name) + " line " +
                                                 std::to_string(line_number) + ": " + what);
  };
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (!split_csv_record(line, fields, scratch)) return error_at("unterminated quoted field");
    if (!have_header) {
      have_header = true;
      for (std::size_t i = 0; i < fields.size(); ++i) {
        for (std::size_t c = 0; c < kColumnCount; ++c) {
          if (fields[i] == kColumnNames[c]) index[c] = i;
        }
      }
      for (std::size_t c = 0; c < kColumnCount; ++c) {
        if (!index[c] && c != kEfa && c != kMaxEfa) {
          return error_at("the header lacks column " + std::string(kColumnNames[c]) +
                          " (SkyPilot's vms.csv columns: InstanceType, AcceleratorName, "
                          "AcceleratorCount, vCPUs, MemoryGiB, GpuInfo, Price, SpotPrice, "
                          "Region, AvailabilityZone)");
        }
      }
      continue;
    }
    auto field = [&](Column column) -> std::string_view {
      const auto at = index[column];
      return at && *at < fields.size() ? std::string_view(fields[*at]) : std::string_view();
    };
    auto number = [&](Column column, double& out) -> Result<void> {
      auto value = parse_number(field(column));
      if (!value) {
        return error_at("column " + std::string(kColumnNames[column]) +
                        ": expected a number, got `" + std::string(field(column)) + "`");
      }
      out = *value;
      return {};
    };
    if (fields.size() < 10) {
      return error_at("expected at least 10 fields, got " + std::to_string(fields.size()));
    }
    if (field(kInstanceType).empty()) {
      ++parsed.rows_skipped;
      continue;
    }
    Offering offering;
    offering.cloud = std::string(cloud);
    offering.instance_type = std::string(field(kInstanceType));
    if (auto ok = number(kVcpus, offering.vcpus); !ok) return ok.error();
    if (auto ok = number(kMemory, offering.memory_gb); !ok) return ok.error();
    offering.accelerator_name = std::string(field(kAcceleratorName));
    if (offering.has_accelerator()) {
      if (auto ok = number(kAcceleratorCount, offering.accelerator_count); !ok) return ok.error();
      if (offering.accelerator_count <= 0) return error_at("column AcceleratorCount: must be > 0");
      offering.accelerator_memory_gb = accelerator_memory_gb(field(kGpuInfo));
    }
    offering.region = std::string(field(kRegion));
    offering.zone = std::string(field(kZone));
    if (offering.region.empty()) return error_at("column Region is empty");
    if (offering.zone.empty()) return error_at("column AvailabilityZone is empty");
    if (!is_unknown(field(kPrice))) {
      offering.price = 0;
      if (auto ok = number(kPrice, *offering.price); !ok) return ok.error();
    }
    const std::string_view spot = field(kSpotPrice);
    if (spot == kUnknown) {
      offering.spot = true;
    } else if (!spot.empty() && spot != "nan" && spot != "NaN") {
      offering.spot = true;
      offering.spot_price = 0;
      if (auto ok = number(kSpotPrice, *offering.spot_price); !ok) return ok.error();
    }
    const std::string_view efa = field(kEfa);
    if (efa == "True" || efa == "true") {
      // Without the count (SkyPilot's files, older ones of ours), one interface: every EFA type
      // takes at least that.
      offering.max_efa_interfaces = 1;
      if (const std::string_view count = field(kMaxEfa); !count.empty()) {
        double interfaces = 0;
        if (auto ok = number(kMaxEfa, interfaces); !ok) return ok.error();
        if (interfaces < 1 || interfaces != static_cast<int>(interfaces))
          return error_at("column MaxEfaInterfaces: expected a whole number of at least 1, got `" +
                          std::string(count) + "`");
        offering.max_efa_interfaces = static_cast<int>(interfaces);
      }
    } else if (!efa.empty() && efa != "False" && efa != "false") {
      return error_at("column EfaSupported: expected True or False, got `" + std::string(efa) +
                      "`");
    }
    parsed.offerings.push_back(std::move(offering));
  }
  if (!have_header) {
    return make_error(CatalogErrc::kBadData, std::string(file_name) + " is empty");
  }
  return parsed;
}

std::string write_vms_csv(const std::vector<Offering>& offerings) {
  std::string out;
  for (std::size_t c = 0; c < kColumnCount; ++c) {
    out += (c == 0 ? "" : ",") + std::string(kColumnNames[c]);
  }
  out += '\n';
  for (const auto& o : offerings) {
    out += quote_if_needed(o.instance_type) + ',' + quote_if_needed(o.accelerator_name) + ',';
    if (o.has_accelerator()) out += format_number(o.accelerator_count);
    out += ',' + format_number(o.vcpus) + ',' + format_number(o.memory_gb) + ',' +
           quote_if_needed(gpu_info_of(o)) + ',';
    out += o.price ? format_number(*o.price) : std::string(kUnknown);
    out += ',';
    if (o.spot) out += o.spot_price ? format_number(*o.spot_price) : std::string(kUnknown);
    out += ',' + quote_if_needed(o.region) + ',' + quote_if_needed(o.zone) + ',' +
           (o.efa_supported() ? "True" : "False") + ',';
    if (o.efa_supported()) out += std::to_string(o.max_efa_interfaces);
    out += '\n';
  }
  return out;
}

}  // namespace skyd::catalog
