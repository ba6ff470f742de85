#include "policy/duration_text.hpp"

namespace skyd::policy {

std::string duration_text(std::chrono::seconds duration) {
  if (duration < std::chrono::seconds{0}) return "-" + duration_text(-duration);
  const auto total = duration.count();
  const auto hours = total / 3600, minutes = total % 3600 / 60, seconds = total % 60;
  std::string text;
  if (hours > 0) text += std::to_string(hours) + "h";
  if (minutes > 0) text += std::to_string(minutes) + "m";
  if (seconds > 0 && hours == 0) text += std::to_string(seconds) + "s";
  return text.empty() ? "0s" : text;
}

}  // namespace skyd::policy
