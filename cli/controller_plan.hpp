#pragma once
// What `sky controller up` asks EC2 for, worked out without I/O: the controller's resources
// (flags over `jobs.controller.resources` in ~/.sky/config.yaml over SkyPilot's controller
// defaults: cpus 4+, memory 4x, 50 GB disk), the instance type the catalog has for them, and the
// user data that installs skyd's Debian package and starts its units at first boot.

#include "providers/catalog/catalog.hpp"
#include "reactor/error.hpp"

#include <optional>
#include <string>

namespace skyd::cli {

struct ControllerResources {
  std::string region = "us-east-1";
  std::string instance_type;  // empty: the cheapest that fits cpus and memory
  std::string cpus = "4+";    // SkyPilot's forms: "4" (exactly) or "4+" (at least)
  std::string memory = "4x";  // GB: "16", "16+", or "4x" (at least 4 GB per vCPU)
  int disk_size_gb = 50;
  std::string instance_profile = "skyd-controller";  // jobs.controller.instance_profile
};

// Reads jobs.controller.resources (cloud, infra, region, instance_type, cpus, memory,
// disk_size) and jobs.controller.instance_profile from a SkyPilot config file's text into
// `resources`. Any other key there, a cloud that is not AWS or use_spot: true is refused by name
// ("FILE: jobs.controller.resources.KEY: why").
Result<void> read_controller_config(const std::string& file, const std::string& text,
                                    ControllerResources& resources);

// The cheapest on-demand AWS type of the region without accelerators whose vCPUs and memory fit;
// kInvalid naming the constraint when none does.
Result<std::string> pick_instance_type(const catalog::Catalog& catalog,
                                       const ControllerResources& resources);

struct ControllerBoot {
  std::string package_url;     // skyd_<version>_amd64.deb, fetched over HTTPS by the VM
  std::string ssh_user;        // the image's login user (Debian's AMIs: admin)
  std::string ssh_public_key;  // one authorized_keys line
  std::string region;          // skyd's default region for its own launches
};

// A bash script for cloud-init: authorizes the key for the user (and adds the user to group
// skyd), installs the package with apt, writes /etc/skyd/config.yaml (AWS on, the region) unless
// one exists, and enables skyd.socket and skyd.service. Every value is single-quoted; a value
// that could not be (a newline) is refused.
Result<std::string> controller_user_data(const ControllerBoot& boot);

}  // namespace skyd::cli
