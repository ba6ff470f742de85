// skyd's Kubernetes settings: parsed and printed.
#include "tests/unit/daemon/config_file.hpp"

#include <gtest/gtest.h>

namespace skyd::daemon {
namespace {

TEST(ConfigKubernetes, SettingsAreRead) {
  auto invocation = with_config(
      "kubernetes_enabled: true\nkubeconfig: /etc/skyd/kubeconfig\nkubernetes_context: gpu\n"
      "kubernetes_image: registry.example/skylet:1\nkubernetes_skylet_port: 40000\n");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  const DaemonConfig& config = invocation->config;
  EXPECT_TRUE(config.kubernetes_enabled);
  EXPECT_EQ(config.kubeconfig, "/etc/skyd/kubeconfig");
  EXPECT_EQ(config.kubernetes_context, "gpu");
  EXPECT_EQ(config.kubernetes_image, "registry.example/skylet:1");
  EXPECT_EQ(config.kubernetes_skylet_port, 40000);
  const std::string printed = config.to_json().dump();
  EXPECT_NE(printed.find(R"("kubernetes_enabled":true)"), std::string::npos) << printed;
  EXPECT_NE(printed.find(R"("kubernetes_context":"gpu")"), std::string::npos) << printed;
}

TEST(ConfigKubernetes, OffByDefault) {
  auto invocation = with_config("log_level: info\n");
  ASSERT_TRUE(invocation) << invocation.error().detail;
  EXPECT_FALSE(invocation->config.kubernetes_enabled);
  EXPECT_EQ(invocation->config.kubernetes_skylet_port, 46590);
}

}  // namespace
}  // namespace skyd::daemon
