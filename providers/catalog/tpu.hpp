#pragma once
// Cloud TPU slices as the catalog and the GCP provider speak of them: the names SkyPilot writes
// (`tpu-v2-8`, `tpu-v5litepod-16`, `tpu-v6e-8`), the aliases users also write (`tpu-v5e-8`, GKE's
// `tpu-v5-lite-podslice:4`), how many hosts a slice has (each host is one node of the task, as in
// SkyPilot) and the TPU VM software version SkyPilot picks when the task names none.

#include <optional>
#include <string>
#include <string_view>

namespace skyd::catalog {

struct TpuSlice {
  std::string generation;        // "v2", "v3", "v4", "v5litepod", "v5p", "v6e"
  int size = 0;                  // the number in the name: TensorCores (v2-v4, v5p) or chips
  int chips = 0;                 // TPU chips in the slice
  int hosts = 1;                 // TPU VM hosts (workers): one node each
  std::string accelerator_type;  // the Cloud TPU API's acceleratorType: "v5litepod-16"
};

// True for an accelerator name of the TPU family (`tpu-…`), known or not.
bool is_tpu_name(std::string_view accelerator_name);

// The slice a catalog name (`tpu-v4-32`) stands for; nullopt for a name that is no TPU slice
// skyd knows the shape of.
std::optional<TpuSlice> tpu_slice(std::string_view accelerator_name);

// The catalog's name for an alias and its count: `tpu-v5e-8` (1) is `tpu-v5litepod-8`;
// `tpu-v5-lite-podslice` (N chips, GKE's name) is `tpu-v5litepod-N`, `tpu-v6e-slice` (N) is
// `tpu-v6e-N`. nullopt: not an alias.
std::optional<std::string> tpu_alias(std::string_view accelerator_name, double count);

// The TPU VM software version SkyPilot uses when `accelerator_args.runtime_version` is not given.
std::string default_tpu_runtime_version(const TpuSlice& slice);

}  // namespace skyd::catalog
