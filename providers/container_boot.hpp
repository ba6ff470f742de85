#pragma once
// The part of a node's boot script for tasks that run in a container image
// (`image_id: docker:IMAGE`): it makes sure the node has a container runtime that answers (docker
// or podman as the image carries them, else docker.io from apt on Debian and Ubuntu images) and
// starts skylet with it, and with the node's GPUs for the containers when it has some.

#include <string>
#include <string_view>

namespace skyd::providers {

// Shell lines that run after `args=(...)` (skylet's arguments) in the boot script. Constant
// text: nothing in them comes from the task (the image is named per attempt, to skylet).
std::string container_runtime_boot(bool gpus);

// What a boot script asks for, read back (fakecloud starts its skylets the same way).
bool boot_asks_for_container_runtime(std::string_view script);
bool boot_asks_for_container_gpus(std::string_view script);

}  // namespace skyd::providers
