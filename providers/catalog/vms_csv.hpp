#pragma once
// SkyPilot's catalog file format, vms.csv (github.com/skypilot-org/skypilot-catalog, catalogs/v7):
//
//   InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,SpotPrice,Region,AvailabilityZone
//
// one row per zone. Columns are found by their header name (SkyPilot's files may carry more; those
// are ignored); skyd adds `EfaSupported` (True/False) where it knows it. GpuInfo is a quoted
// Python-literal dict whose `'SizeInMiB'` gives the memory of one accelerator. Prices: a number;
// empty, `nan` or `unknown` for an on-demand price nobody knows; for SpotPrice, empty means the
// zone sells no spot and `unknown` that it does at a price not known.

#include "providers/catalog/catalog.hpp"
#include "reactor/error.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace skyd::catalog {

struct ParsedVmsCsv {
  std::vector<Offering> offerings;
  std::size_t rows_skipped = 0;  // rows without an instance type (GCP's attachable GPUs)
};

// Errors (kBadData) name `file_name`, the line and the column: "aws/vms.csv line 12: column
// vCPUs: expected a number, got `x`".
Result<ParsedVmsCsv> parse_vms_csv(std::string_view cloud, std::string_view text,
                                   std::string_view file_name);

// The offerings of one cloud in vms.csv format (with the EfaSupported column), rows in order.
std::string write_vms_csv(const std::vector<Offering>& offerings);

// One CSV record's fields (RFC 4180 quoting: "a,b" and doubled quotes), as views into `line` or,
// for a record with quotes, into `scratch`. Returns false on an unterminated quote.
bool split_csv_record(std::string_view line, std::vector<std::string_view>& fields,
                      std::string& scratch);

}  // namespace skyd::catalog
