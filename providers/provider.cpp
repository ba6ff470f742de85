#include "providers/provider.hpp"

namespace skyd::providers {

std::string_view to_string(ProviderErrc code) {
  switch (code) {
    case ProviderErrc::kNoCapacity:
      return "no capacity";
    case ProviderErrc::kQuota:
      return "quota exceeded";
    case ProviderErrc::kThrottled:
      return "throttled";
    case ProviderErrc::kAuth:
      return "not authorized";
    case ProviderErrc::kInvalid:
      return "invalid request";
    case ProviderErrc::kTransient:
      return "transient failure";
    case ProviderErrc::kNotFound:
      return "not found";
  }
  return "unknown";
}

std::string_view to_string(DiskTier tier) {
  switch (tier) {
    case DiskTier::kLow:
      return "low";
    case DiskTier::kMedium:
      return "medium";
    case DiskTier::kHigh:
      return "high";
    case DiskTier::kUltra:
      return "ultra";
    case DiskTier::kBest:
      return "best";
  }
  return "unknown";
}

std::string_view to_string(InstanceState state) {
  switch (state) {
    case InstanceState::kPending:
      return "pending";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kShuttingDown:
      return "shutting-down";
    case InstanceState::kTerminated:
      return "terminated";
  }
  return "unknown";
}

namespace {
class ProviderCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "skyd.provider"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<ProviderErrc>(value)));
  }
};
}  // namespace

const boost::system::error_category& provider_category() {
  static const ProviderCategory category;
  return category;
}

boost::system::error_code make_error_code(ProviderErrc code) {
  return {static_cast<int>(code), provider_category()};
}

Error make_error(ProviderErrc code, std::string detail) {
  return Error{make_error_code(code), std::move(detail)};
}

Result<void> refuse_volumes(const NodeSettings& settings, std::string_view cloud) {
  if (settings.volumes.empty()) return {};
  const VolumeMount& first = settings.volumes.front();
  return make_error(ProviderErrc::kInvalid,
                    "volumes." + first.path + ": `" + first.claim +
                        "` is a Kubernetes PersistentVolumeClaim, which only kubernetes pods "
                        "mount; " +
                        std::string(cloud) + " nodes cannot");
}

bool is_retryable(ProviderErrc code) {
  switch (code) {
    case ProviderErrc::kThrottled:
    case ProviderErrc::kTransient:
      return true;
    case ProviderErrc::kNoCapacity:
    case ProviderErrc::kQuota:
    case ProviderErrc::kAuth:
    case ProviderErrc::kInvalid:
    case ProviderErrc::kNotFound:
      return false;
  }
  return false;
}

}  // namespace skyd::providers
