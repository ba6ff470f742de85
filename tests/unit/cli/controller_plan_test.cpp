// `sky controller up`'s plan: jobs.controller.resources read or refused by name, the instance
// type for cpus/memory, and user data whose values are quoted.
#include "cli/controller_plan.hpp"

#include <gtest/gtest.h>

namespace skyd::cli {
namespace {

TEST(ControllerPlan, DefaultsAreSkyPilotsController) {
  ControllerResources resources;
  ASSERT_TRUE(read_controller_config("config.yaml", "jobs:\n  max_jobs: 3\n", resources));
  EXPECT_EQ(resources.cpus, "4+");
  EXPECT_EQ(resources.memory, "4x");
  EXPECT_EQ(resources.disk_size_gb, 50);
  EXPECT_EQ(resources.instance_profile, "skyd-controller");
}

TEST(ControllerPlan, ReadsJobsControllerResources) {
  ControllerResources resources;
  auto read = read_controller_config(
      "config.yaml",
      "jobs:\n  controller:\n    instance_profile: team-controller\n    resources:\n"
      "      infra: aws/eu-west-1\n      cpus: 8+\n      memory: 32+\n      disk_size: 100\n",
      resources);
  ASSERT_TRUE(read) << read.error().detail;
  EXPECT_EQ(resources.region, "eu-west-1");
  EXPECT_EQ(resources.cpus, "8+");
  EXPECT_EQ(resources.memory, "32+");
  EXPECT_EQ(resources.disk_size_gb, 100);
  EXPECT_EQ(resources.instance_profile, "team-controller");
}

TEST(ControllerPlan, RefusesWhatItCannotHonourByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"accelerators: A100:1", "jobs.controller.resources.accelerators: not a setting"},
      {"cloud: gcp", "jobs.controller.resources.cloud: the controller runs on aws only"},
      {"use_spot: true", "jobs.controller.resources.use_spot: the controller is on-demand"},
      {"cpus: many", "jobs.controller.resources.cpus: expected N or N+"},
  };
  for (const auto& [line, why] : cases) {
    ControllerResources resources;
    auto read = read_controller_config(
        "/home/a/.sky/config.yaml",
        std::string("jobs:\n  controller:\n    resources:\n      ") + line + "\n", resources);
    ASSERT_FALSE(read) << line;
    EXPECT_EQ(read.error().detail.rfind(std::string("/home/a/.sky/config.yaml: ") + why, 0), 0u)
        << read.error().detail;
  }
}

TEST(ControllerPlan, PicksTheCheapestTypeWithFourVcpusAndFourGbEach) {
  catalog::Catalog catalog;
  auto row = [](std::string type, double vcpus, double memory, double price) {
    catalog::Offering offering;
    offering.cloud = "aws";
    offering.instance_type = std::move(type);
    offering.vcpus = vcpus;
    offering.memory_gb = memory;
    offering.region = "us-east-1";
    offering.zone = "us-east-1a";
    offering.price = price;
    return offering;
  };
  catalog.set_cloud_offerings("aws",
                              {row("c6i.xlarge", 4, 8, 0.17), row("m6i.xlarge", 4, 16, 0.192),
                               row("m6i.large", 2, 8, 0.096), row("r6i.xlarge", 4, 32, 0.252)},
                              {});
  ControllerResources resources;
  auto picked = pick_instance_type(catalog, resources);
  ASSERT_TRUE(picked) << picked.error().detail;
  EXPECT_EQ(*picked, "m6i.xlarge") << "c6i.xlarge has 2 GB per vCPU";
  resources.memory = "32+";
  EXPECT_EQ(*pick_instance_type(catalog, resources), "r6i.xlarge");
  resources.region = "eu-west-1";
  EXPECT_FALSE(pick_instance_type(catalog, resources));
}

TEST(ControllerPlan, UserDataQuotesEveryValueAndRefusesAQuoteOrNewline) {
  auto script = controller_user_data(
      {"https://example.com/skyd.deb", "admin", "ssh-ed25519 AAAA alice@laptop", "us-east-1"});
  ASSERT_TRUE(script) << script.error().detail;
  EXPECT_EQ(script->rfind("#!/bin/bash\n", 0), 0u);
  EXPECT_NE(script->find("package_url='https://example.com/skyd.deb'\n"), std::string::npos);
  EXPECT_NE(script->find("key='ssh-ed25519 AAAA alice@laptop'\n"), std::string::npos);
  EXPECT_NE(script->find("systemctl enable --now skyd.socket skyd.service"), std::string::npos);
  EXPECT_FALSE(controller_user_data({"https://x/'; rm -rf /; '", "admin", "ssh-ed25519 A", "r"}));
  EXPECT_FALSE(controller_user_data({"https://x", "admin", "ssh-ed25519 A\nevil", "r"}));
}

}  // namespace
}  // namespace skyd::cli
