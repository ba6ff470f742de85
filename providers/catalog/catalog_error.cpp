#include "providers/catalog/catalog_error.hpp"

namespace skyd::catalog {

std::string_view to_string(CatalogErrc code) {
  switch (code) {
    case CatalogErrc::kBadData:
      return "bad catalog data";
    case CatalogErrc::kUnknownName:
      return "unknown name";
    case CatalogErrc::kInfeasible:
      return "infeasible resources";
    case CatalogErrc::kAllBlocked:
      return "all candidates blocked";
  }
  return "unknown";
}

namespace {
class CatalogCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "skyd.catalog"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<CatalogErrc>(value)));
  }
};
}  // namespace

const boost::system::error_category& catalog_category() {
  static const CatalogCategory category;
  return category;
}

boost::system::error_code make_error_code(CatalogErrc code) {
  return {static_cast<int>(code), catalog_category()};
}

Error make_error(CatalogErrc code, std::string detail) {
  return Error{make_error_code(code), std::move(detail)};
}

}  // namespace skyd::catalog
