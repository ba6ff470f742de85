#include "tests/fakecloud/fake_network_interfaces.hpp"

#include <charconv>
#include <set>
#include <utility>

namespace skyd::fakecloud {
namespace {

std::optional<int> whole_number(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  int value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 0) return std::nullopt;
  return value;
}

ApiError invalid(std::string message) {
  return {"InvalidParameterValue", std::move(message)};
}

std::optional<ApiError> malformed_group(const std::vector<std::string>& groups) {
  for (const auto& group : groups) {
    if (!group.starts_with("sg-"))
      return ApiError{"InvalidGroupId.Malformed",
                      "Invalid id: \"" + group + "\" (expecting \"sg-...\")"};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> network_interfaces(const aws::QueryParams& params,
                                           const std::vector<std::string>& instance_groups,
                                           const std::string& instance_type, int max_efa_interfaces,
                                           std::vector<NetworkInterface>& out) {
  out.clear();
  if (auto refused = malformed_group(instance_groups)) return refused;
  const bool listed = aws::param(params, "NetworkInterface.1.DeviceIndex").has_value() ||
                      aws::param(params, "NetworkInterface.1.InterfaceType").has_value();
  if (!listed) {
    out.push_back({resource_id("eni-"), 0, 0, "interface", instance_groups});
    return std::nullopt;
  }
  if (!instance_groups.empty()) {
    return ApiError{"InvalidParameterCombination",
                    "Network interfaces and an instance-level security groups may not be "
                    "specified on the same request"};
  }
  std::set<std::pair<int, int>> taken;
  int efa = 0;
  for (int n = 1;; ++n) {
    const std::string prefix = "NetworkInterface." + std::to_string(n) + ".";
    const auto device_text = aws::param(params, prefix + "DeviceIndex");
    const auto type_text = aws::param(params, prefix + "InterfaceType");
    if (!device_text && !type_text) break;
    const auto device = whole_number(device_text);
    if (!device) return invalid("The network interface " + prefix + "DeviceIndex must be given");
    const auto card = whole_number(aws::param(params, prefix + "NetworkCardIndex").value_or("0"));
    if (!card) return invalid("Invalid value for " + prefix + "NetworkCardIndex");
    NetworkInterface interface {
      resource_id("eni-"), *card, *device, type_text.value_or("interface"),
          aws::param_list(params, prefix + "SecurityGroupId")
    };
    if (interface.type != "interface" && interface.type != "efa") {
      return invalid("Value (" + interface.type + ") for parameter InterfaceType is invalid");
    }
    if (auto refused = malformed_group(interface.groups)) return refused;
    if (interface.type == "efa") {
      if (max_efa_interfaces == 0) {
        return ApiError{"InvalidParameterCombination",
                        "EFA interfaces are not supported on " + instance_type};
      }
      if (++efa > max_efa_interfaces) {
        return invalid(instance_type + " supports at most " + std::to_string(max_efa_interfaces) +
                       " EFA interfaces");
      }
    }
    // A type has one network card unless it takes several EFA interfaces (one per card).
    if (interface.card >= std::max(1, max_efa_interfaces)) {
      return invalid("Network card index " + std::to_string(interface.card) +
                     " is out of range for " + instance_type);
    }
    if (!taken.insert({interface.card, interface.device}).second) {
      return invalid("Each network interface requires a unique device index on its card");
    }
    out.push_back(std::move(interface));
  }
  if (!taken.contains({0, 0}))
    return invalid("The primary network interface (device 0) is missing");
  return std::nullopt;
}

void append_network_interfaces(std::string& xml, const std::vector<NetworkInterface>& interfaces) {
  xml += "<networkInterfaceSet>";
  for (const auto& interface : interfaces) {
    xml += "<item><networkInterfaceId>" + interface.id + "</networkInterfaceId><interfaceType>" +
           interface.type + "</interfaceType><attachment><deviceIndex>" +
           std::to_string(interface.device) + "</deviceIndex><networkCardIndex>" +
           std::to_string(interface.card) + "</networkCardIndex></attachment><groupSet>";
    for (const auto& group : interface.groups)
      xml += "<item><groupId>" + aws::xml_escape(group) + "</groupId></item>";
    xml += "</groupSet></item>";
  }
  xml += "</networkInterfaceSet>";
}

}  // namespace skyd::fakecloud
