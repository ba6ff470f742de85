#include "daemon/spec/spec_error.hpp"

namespace skyd::spec {

std::string_view to_string(SpecErrc code) {
  switch (code) {
    case SpecErrc::kSyntax:
      return "YAML syntax error";
    case SpecErrc::kInvalid:
      return "invalid value";
    case SpecErrc::kUnknownField:
      return "unknown field";
    case SpecErrc::kUnsupported:
      return "unsupported field";
    case SpecErrc::kMissingValue:
      return "missing value";
    case SpecErrc::kIo:
      return "cannot read file";
  }
  return "unknown";
}

namespace {
class SpecCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "skyd.spec"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<SpecErrc>(value)));
  }
};
}  // namespace

const boost::system::error_category& spec_category() {
  static const SpecCategory category;
  return category;
}

boost::system::error_code make_error_code(SpecErrc code) {
  return {static_cast<int>(code), spec_category()};
}

Error make_error(SpecErrc code, std::string detail) {
  return Error{make_error_code(code), std::move(detail)};
}

}  // namespace skyd::spec
