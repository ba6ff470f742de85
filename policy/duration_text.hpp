#pragma once

#include <chrono>
#include <string>

namespace skyd::policy {

// "1h50m", "3h", "10m", "45s", "0s", "-20m": the largest units that matter to a person reading
// a decision. Seconds are dropped from an hour or more.
std::string duration_text(std::chrono::seconds duration);

}  // namespace skyd::policy
