#pragma once
// The task spec module's error codes. Details read "file:line:col: field.path: what was expected".

#include "reactor/error.hpp"

#include <string>
#include <string_view>

namespace skyd::spec {

enum class SpecErrc {
  kSyntax = 1,    // not YAML at all
  kInvalid,       // a field with a wrong type or value
  kUnknownField,  // a key the schema does not have
  kUnsupported,   // a SkyPilot field that skyd's managed jobs do not support
  kMissingValue,  // a blank left for the user (null env, empty bucket name)
  kIo,            // the file could not be read
};

std::string_view to_string(SpecErrc code);
const boost::system::error_category& spec_category();
boost::system::error_code make_error_code(SpecErrc code);
Error make_error(SpecErrc code, std::string detail);

}  // namespace skyd::spec

template <>
struct boost::system::is_error_code_enum<skyd::spec::SpecErrc> : std::true_type {};
