#include "providers/catalog/tpu.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace skyd::catalog {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::optional<int> whole_number(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

bool is_tpu_name(std::string_view accelerator_name) {
  return lower(accelerator_name).starts_with("tpu-");
}

std::optional<TpuSlice> tpu_slice(std::string_view accelerator_name) {
  const std::string name = lower(accelerator_name);
  if (!name.starts_with("tpu-")) return std::nullopt;
  const auto dash = name.rfind('-');
  if (dash <= 4) return std::nullopt;
  TpuSlice slice;
  slice.generation = name.substr(4, dash - 4);
  const auto size = whole_number(std::string_view(name).substr(dash + 1));
  if (!size) return std::nullopt;
  slice.size = *size;
  // v2, v3, v4 and v5p names count TensorCores (two a chip); v5e and v6e names count chips.
  // Every generation's multi-host slices have four chips a host; v5e and v6e single hosts take
  // up to eight (Google's Cloud TPU system architecture pages).
  if (slice.generation == "v2" || slice.generation == "v3" || slice.generation == "v4" ||
      slice.generation == "v5p") {
    if (slice.size % 8 != 0) return std::nullopt;
    slice.chips = slice.size / 2;
    slice.hosts = slice.chips / 4;
  } else if (slice.generation == "v5litepod" || slice.generation == "v6e") {
    slice.chips = slice.size;
    if (slice.chips > 8 && slice.chips % 4 != 0) return std::nullopt;
    slice.hosts = slice.chips <= 8 ? 1 : slice.chips / 4;
  } else {
    return std::nullopt;
  }
  slice.accelerator_type = slice.generation + "-" + std::to_string(slice.size);
  return slice;
}

std::optional<std::string> tpu_alias(std::string_view accelerator_name, double count) {
  const std::string name = lower(accelerator_name);
  if (name.starts_with("tpu-v5e-")) return "tpu-v5litepod-" + name.substr(8);
  const int chips = static_cast<int>(count);
  if (chips < 1 || chips != count) return std::nullopt;
  if (name == "tpu-v5-lite-podslice") return "tpu-v5litepod-" + std::to_string(chips);
  if (name == "tpu-v6e-slice") return "tpu-v6e-" + std::to_string(chips);
  return std::nullopt;
}

std::string default_tpu_runtime_version(const TpuSlice& slice) {
  if (slice.generation == "v5litepod") return "v2-alpha-tpuv5-lite";
  if (slice.generation == "v5p") return "v2-alpha-tpuv5";
  if (slice.generation == "v6e") return "v2-alpha-tpuv6e";
  if (slice.generation == "v4") return "tpu-vm-v4-base";
  return "tpu-vm-base";
}

}  // namespace skyd::catalog
