// A large workdir sent to a skyd on another machine over SSH: one progress line, and the upload
// goes on where it stopped when the connection drops under it. The "laptop" lives in memory
// (/dev/shm) where it can, and the test runs alone (RUN_SERIAL): on one machine its hundreds of
// megabytes of writes would otherwise stall other tests' databases.
#include "tests/support/private_sshd.hpp"

namespace skyd::testing {
namespace {
namespace fs = std::filesystem;

using RemoteUse = SshClientTest;

TEST_F(RemoteUse, ALargeWorkdirUploadResumesAfterTheConnectionDrops) {
  SkydHarness skyd;
  PrivateSshd sshd(skyd.socket(), {current_user()});
  auto env = sshd.client_env(laptop_.path());
  env["SKYD_HOST"] = sshd.url(current_user());
  env["TMPDIR"] = laptop_.path();  // where sky packs the workdir
  fs::create_directories(laptop_.file("data"));
  ASSERT_EQ(run_command({"/bin/sh", "-c",
                         "head -c 104857600 /dev/urandom > " + laptop_.file("data/big.bin")})
                .exit_code,
            0);
  const std::string digest =
      run_command({"/usr/bin/md5sum", laptop_.file("data/big.bin")}).out.substr(0, 32);
  write_text(laptop_.file("big.yaml"), "resources:\n  infra: local\nworkdir: " +
                                           laptop_.file("data") + "\nrun: md5sum big.bin\n");

  const std::string printed = laptop_.file("launch.out");
  ChildProcess launch({binary_path("sky"), "jobs", "launch", "-y", laptop_.file("big.yaml")}, env,
                      printed);
  // Once part of the archive has arrived, the connection goes away under the upload.
  const std::string partial = skyd.state_dir() + "/incoming/partial";
  bool dropped = false;
  for (int i = 0; i < 3000 && !dropped; ++i) {
    std::error_code ec;
    // The first bytes that arrive: most of the archive is still to come when the drop lands.
    for (const auto& entry : fs::recursive_directory_iterator(partial, ec))
      if (entry.is_regular_file(ec) && entry.file_size(ec) > 0) dropped = true;
    if (dropped)
      sshd.drop_shared_connections(laptop_.path());
    else
      ::usleep(10'000);
  }
  ASSERT_TRUE(dropped) << read_text(printed);
  const auto ended = launch.wait(std::chrono::seconds(120));
  const std::string log = read_text(skyd.log_file());
  ASSERT_EQ(ended, 0) << read_text(printed)
                      << log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
  const std::string out = read_text(printed);
  EXPECT_TRUE(contains(out, "Uploading workdir")) << out;
  EXPECT_TRUE(contains(out, "100 / 100 MiB (100%)")) << out;
  EXPECT_TRUE(contains(out, digest + "  big.bin")) << out;
  EXPECT_GE(sshd.logins(), 2) << "the upload went on over a new connection";
}

}  // namespace
}  // namespace skyd::testing
