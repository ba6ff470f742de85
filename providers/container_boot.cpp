#include "providers/container_boot.hpp"

namespace skyd::providers {
namespace {
constexpr std::string_view kRuntimeArgs = "args+=(--container-runtime \"$runtime\")";
constexpr std::string_view kGpuArgs = "args+=(--container-gpus)";
}  // namespace

std::string container_runtime_boot(bool gpus) {
  // A runtime counts once `RUNTIME version` answers (docker's daemon runs). Without one, and
  // without apt, skylet still starts: each attempt then fails naming the missing runtime, rather
  // than the launch waiting for a skylet that never comes.
  std::string out =
      "# The task runs in a container image: skylet needs docker or podman that answers.\n"
      "find_runtime() {\n"
      "  local candidate\n"
      "  for candidate in docker podman; do\n"
      "    if command -v \"$candidate\" >/dev/null &&\n"
      "       timeout 20 \"$candidate\" version >/dev/null 2>&1; then\n"
      "      command -v \"$candidate\"; return 0\n"
      "    fi\n"
      "  done\n"
      "  return 1\n"
      "}\n"
      "runtime=$(find_runtime || true)\n"
      "if [ -z \"$runtime\" ] && command -v systemctl >/dev/null && command -v docker >/dev/null; "
      "then\n"
      "  systemctl start docker >/dev/null 2>&1 || true\n"
      "  runtime=$(find_runtime || true)\n"
      "fi\n"
      "if [ -z \"$runtime\" ] && command -v apt-get >/dev/null; then\n"
      "  if DEBIAN_FRONTEND=noninteractive apt-get update -q &&\n"
      "     DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io; then\n"
      "    if command -v systemctl >/dev/null; then systemctl enable --now docker || true; fi\n"
      "    runtime=$(find_runtime || true)\n"
      "  fi\n"
      "fi\n"
      "if [ -n \"$runtime\" ]; then\n"
      "  ";
  out += kRuntimeArgs;
  out +=
      "\n"
      "else\n"
      "  echo \"skyd: this node has no docker or podman that answers, and docker.io could not be "
      "installed (apt-get on Debian and Ubuntu images only): tasks with image_id: docker:IMAGE "
      "fail here\" >&2\n"
      "fi\n";
  if (gpus) {
    // The containers get the node's GPUs (the image's NVIDIA container toolkit or CDI specs).
    out += kGpuArgs;
    out += '\n';
  }
  return out;
}

bool boot_asks_for_container_runtime(std::string_view script) {
  return script.find(kRuntimeArgs) != std::string_view::npos;
}

bool boot_asks_for_container_gpus(std::string_view script) {
  return script.find(kGpuArgs) != std::string_view::npos;
}

}  // namespace skyd::providers
