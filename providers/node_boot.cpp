#include "providers/node_boot.hpp"

#include "providers/container_boot.hpp"
#include "reactor/crypto.hpp"
#include "reactor/signals.hpp"

#include <charconv>

namespace skyd::providers {

std::string_view to_string(MetadataService service) {
  return service == MetadataService::kGce ? "gce" : "ec2";
}

std::optional<MetadataService> parse_metadata_service(std::string_view name) {
  if (name == "ec2") return MetadataService::kEc2;
  if (name == "gce") return MetadataService::kGce;
  return std::nullopt;
}

namespace {
constexpr std::string_view kListen = "--listen 0.0.0.0:";
constexpr std::string_view kNoticeSignal = "--notice-signal ";
constexpr std::string_view kMetadataFlavor = "--metadata-flavor ";

// A root-only file written from a quoted here-document (nothing in it is expanded by the shell).
void append_file(std::string& script, std::string_view path, std::string_view marker,
                 std::string_view content) {
  script += "cat > ";
  script += path;
  script += " <<'";
  script += marker;
  script += "'\n";
  script += content;
  if (!content.ends_with('\n')) script += '\n';
  script += marker;
  script += '\n';
}

std::optional<std::string> file_content(std::string_view script, std::string_view marker) {
  const std::string open = "<<'" + std::string(marker) + "'\n";
  const std::string close = "\n" + std::string(marker) + "\n";
  const auto at = script.find(open);
  if (at == std::string_view::npos) return std::nullopt;
  const auto begin = at + open.size();
  const auto end = script.find(close, begin);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(script.substr(begin, end - begin));
}

}  // namespace

std::string render_user_data(const SkyletBoot& boot) {
  // The image carries skylet at /opt/skyd/bin/skylet. The token and the TLS key go to root-only
  // files, never onto a command line (where ps would show them). skylet runs as a systemd unit
  // (restarted if it dies) so cloud-init's final stage is not held open by it.
  std::string out =
      "#!/bin/bash\n"
      "# skyd node bootstrap: start skylet with the cluster's token and certificate.\n"
      "set -euo pipefail\n"
      "export HOME=${HOME:-/root}\n"
      "install -d -m 700 /opt/skyd /opt/skyd/work\n"
      "umask 077\n";
  append_file(out, "/opt/skyd/token", "SKYD_TOKEN", boot.token);
  const bool tls = !boot.certificate.certificate_pem.empty();
  if (tls) {
    append_file(out, "/opt/skyd/skylet.crt", "SKYD_CERT", boot.certificate.certificate_pem);
    append_file(out, "/opt/skyd/skylet.key", "SKYD_KEY", boot.certificate.private_key_pem);
  }
  out += "args=(";
  out += kListen;
  out += std::to_string(boot.port);
  out += " --token-file /opt/skyd/token --work-dir /opt/skyd/work";
  if (tls) out += " --tls-cert /opt/skyd/skylet.crt --tls-key /opt/skyd/skylet.key";
  if (auto signal = parse_notice_signal(boot.notice_signal)) {
    out += ' ';
    out += kNoticeSignal;
    out += signal->name;
  }
  // EC2: polled once a second (the notice gives two minutes, and recovery should start within
  // one). Compute Engine: watched with wait_for_change (its notice gives only 30 seconds).
  out += boot.metadata == MetadataService::kGce
             ? " --metadata-url http://metadata.google.internal --metadata-flavor gce)\n"
             : " --metadata-url http://169.254.169.254 --metadata-interval-ms 1000)\n";
  if (boot.container) out += container_runtime_boot(boot.gpus);
  out +=
      "if command -v systemd-run >/dev/null; then\n"
      "  exec systemd-run --unit=skylet --property=Restart=on-failure --setenv=HOME=\"$HOME\" \\\n"
      "    /opt/skyd/bin/skylet \"${args[@]}\"\n"
      "fi\n"
      "setsid /opt/skyd/bin/skylet \"${args[@]}\" >>/opt/skyd/skylet.log 2>&1 </dev/null &\n";
  return out;
}

std::optional<SkyletBoot> parse_skylet_boot(std::string_view user_data) {
  auto token = file_content(user_data, "SKYD_TOKEN");
  const auto listen = user_data.find(kListen);
  if (!token || listen == std::string_view::npos) return std::nullopt;
  SkyletBoot boot;
  boot.token = std::move(*token);
  const std::string_view port = user_data.substr(listen + kListen.size());
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || value > 65535 || end == port.data()) return std::nullopt;
  boot.port = static_cast<std::uint16_t>(value);
  auto certificate = file_content(user_data, "SKYD_CERT");
  auto key = file_content(user_data, "SKYD_KEY");
  if (certificate && key) boot.certificate = {*certificate + "\n", *key + "\n"};
  if (const auto at = user_data.find(kNoticeSignal); at != std::string_view::npos) {
    const std::string_view rest = user_data.substr(at + kNoticeSignal.size());
    boot.notice_signal = std::string(rest.substr(0, rest.find_first_of(" )\n")));
  }
  if (const auto at = user_data.find(kMetadataFlavor); at != std::string_view::npos) {
    const std::string_view rest = user_data.substr(at + kMetadataFlavor.size());
    const auto flavor = parse_metadata_service(rest.substr(0, rest.find_first_of(" )\n")));
    if (!flavor) return std::nullopt;
    boot.metadata = *flavor;
  }
  boot.container = boot_asks_for_container_runtime(user_data);
  boot.gpus = boot_asks_for_container_gpus(user_data);
  return boot;
}

std::string skylet_tls_name(const std::string& cluster_name) {
  constexpr std::string_view kSuffix = ".skylet.internal";
  // A certificate's common name holds 64 characters at most (a DNS label 63).
  if (cluster_name.size() + kSuffix.size() <= 63) return cluster_name + std::string(kSuffix);
  return sha256_hex(cluster_name).substr(0, 32) + std::string(kSuffix);
}

}  // namespace skyd::providers
