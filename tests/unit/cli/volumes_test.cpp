// `sky volumes apply`'s volume YAML, as SkyPilot writes it: what reaches skyd, and each mistake
// named at its file, line, column and field.
#include "cli/volumes_command.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace skyd::cli {
namespace {

std::string volume_file(const std::string& text) {
  static int count = 0;
  const auto path =
      std::filesystem::temp_directory_path() /
      ("skyd-volume-" + std::to_string(::getpid()) + "-" + std::to_string(++count) + ".yaml");
  std::ofstream(path) << text;
  return path.string();
}

TEST(VolumeYaml, SkyPilotsQuickstartVolumeBecomesTheClaimsRequest) {
  const std::string file = volume_file(
      "name: new-pvc\ntype: k8s-pvc\ninfra: k8s/gpu-cluster\nsize: 10Gi\nlabels:\n  team: ml\n"
      "config:\n  namespace: default\n  storage_class_name: csi-mounted-fs-path-sc\n"
      "  access_mode: ReadWriteMany\n");
  auto body = read_volume_yaml(file);
  ASSERT_TRUE(body) << body.error().detail;
  EXPECT_EQ(body->dump(),
            R"({"name":"new-pvc","context":"gpu-cluster","use_existing":false,"size":"10Gi",)"
            R"("labels":{"team":"ml"},"namespace":"default",)"
            R"("storage_class":"csi-mounted-fs-path-sc","access_mode":"ReadWriteMany"})");
  auto existing = read_volume_yaml(volume_file("name: data\nuse_existing: true\n"));
  ASSERT_TRUE(existing) << existing.error().detail;
  EXPECT_EQ(existing->dump(), R"({"name":"data","use_existing":true})");
  // A bare number is GiB.
  auto bare = read_volume_yaml(volume_file("name: data\nsize: 20\n"));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->dump(), R"({"name":"data","use_existing":false,"size":"20Gi"})");
}

TEST(VolumeYaml, WhatSkydCannotMakeIsRefusedAtItsLine) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"name: v\ntype: runpod-network-volume\nsize: 10\n",
       ":2:7: type: `runpod-network-volume`: skyd's volumes are Kubernetes claims (k8s-pvc)"},
      {"name: v\ninfra: aws\nsize: 10\n", ":2:8: infra: `aws`: skyd's volumes are on kubernetes"},
      {"name: v\n", ":1:1: size: a new volume needs a size (size: 10Gi)"},
      {"size: 10Gi\n", ":1:1: name: a volume needs a name"},
      {"name: v\nsize: 1Gi\nconfig:\n  zone: a\n",
       ":4:3: config.zone: unknown field `zone` of a volume YAML"},
      {"name: v\nsize: 1Gi\nsku: fast\n", ":3:1: sku: unknown field `sku`"},
      {"name: v\nuse_existing: maybe\n", ":2:15: use_existing: expected true or false"},
      {"name: v\nuse_existing: true\nsize: 10Gi\n",
       ":3:7: size: use_existing: true mounts the claim as it is; this sets nothing"},
      {"name: v\nuse_existing: true\nconfig:\n  access_mode: ReadWriteMany\n",
       ":4:16: config.access_mode: use_existing: true mounts the claim as it is"},
  };
  for (const auto& c : cases) {
    const std::string file = volume_file(c.yaml);
    auto body = read_volume_yaml(file);
    ASSERT_FALSE(body) << c.yaml;
    EXPECT_NE(body.error().detail.find(file + c.error), std::string::npos)
        << c.yaml << body.error().detail;
  }
}

}  // namespace
}  // namespace skyd::cli
