#pragma once
// Autostop: skyd stops the EC2 instance it runs on after a stretch with nothing to do -- no open
// job and no client on the API socket (a `sky` command, a log follow, an upload) -- as SkyPilot's
// controller stops itself when idle. The instance is found through its own metadata service
// (IMDSv2) and stopped with a signed StopInstances through the AWS provider's client; nothing
// runs a shell. The database lives on the instance's volume, which a stop keeps, so a job
// submitted while the stop is under way waits in PostgreSQL and runs when the instance starts
// again. Runs on shard 0; the daemon starts it after the API listens and stops it before the
// controller.

#include "providers/aws/aws_provider.hpp"
#include "reactor/coro.hpp"
#include "reactor/task_group.hpp"

#include <optional>

namespace skyd::http {
class Server;
}

namespace skyd::daemon {

class Controller;

// How long a controller VM (an instance tagged skyd-role=controller) waits when the config does
// not say (SkyPilot's controller default).
inline constexpr Duration kDefaultAutostopIdle = std::chrono::minutes(10);

struct AutostopOptions {
  // The config's autostop_idle: zero is off; unset is kDefaultAutostopIdle on a controller VM
  // and off anywhere else.
  std::optional<Duration> idle;
  providers::aws::AwsProviderOptions aws;  // endpoint, credentials and limits of the stop call
  Duration metadata_timeout = std::chrono::seconds(2);
};

class Autostop {
 public:
  Autostop(asio::any_io_executor executor, AutostopOptions options, Controller* controller,
           const http::Server* api);
  Autostop(const Autostop&) = delete;
  Autostop& operator=(const Autostop&) = delete;

  // Both awaited on the executor given above: start() spawns the watch and returns; stop()
  // cancels it and returns once it has ended.
  Task<void> start();
  Task<void> stop();

 private:
  Task<void> run();
  // Whether anything keeps the controller busy now: an open job, a client connection, or a
  // database that cannot say (never stop on a guess).
  Task<bool> busy();

  AutostopOptions options_;
  Controller* controller_;
  const http::Server* api_;
  TaskGroup group_;
};

}  // namespace skyd::daemon
