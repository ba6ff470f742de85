#pragma once
// The catalog module's error codes: bad catalog data, names the catalog does not know, and
// requests no offering can satisfy.

#include "reactor/error.hpp"

#include <string>
#include <string_view>

namespace skyd::catalog {

enum class CatalogErrc {
  kBadData = 1,  // a catalog CSV that does not parse
  kUnknownName,  // a cloud, region, zone, instance type or accelerator the catalog lacks
  kInfeasible,   // names are valid, but no offering satisfies every constraint
  kAllBlocked,   // offerings exist, but the blocklist excludes all of them
};

std::string_view to_string(CatalogErrc code);
const boost::system::error_category& catalog_category();
boost::system::error_code make_error_code(CatalogErrc code);
Error make_error(CatalogErrc code, std::string detail);

}  // namespace skyd::catalog

template <>
struct boost::system::is_error_code_enum<skyd::catalog::CatalogErrc> : std::true_type {};
