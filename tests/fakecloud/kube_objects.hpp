#pragma once
// What every object and error of fakecloud's Kubernetes API is made with: the Status object of an
// error, a uid, a timestamp.

#include "reactor/http_types.hpp"

#include <string>

namespace skyd::fakecloud {

// Now, as the API server writes times (RFC 3339, UTC, seconds).
std::string rfc3339_now();
// A uid in Kubernetes' form (8-4-4-4-12 hex digits), unique for a unique `seed`.
std::string kube_uid(const std::string& seed);
// A Status object, as the API server answers every error; `kind` is the resource's plural.
http::Response status(int code, const std::string& reason, const std::string& message,
                      const std::string& name = "", const std::string& kind = "pods");

}  // namespace skyd::fakecloud
