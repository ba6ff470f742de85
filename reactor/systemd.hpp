#pragma once
// The parts of systemd's service protocol skyd speaks without linking libsystemd: sd_notify
// datagrams (READY, STOPPING, STATUS, WATCHDOG), the watchdog interval, and inherited sockets.

#include "reactor/coro.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace skyd::systemd {

// Sends a state string ("READY=1") to $NOTIFY_SOCKET; false when unset or the send fails. Never
// blocks (a datagram on a local socket, sent with MSG_DONTWAIT).
bool notify(std::string_view state);

// Half of $WATCHDOG_USEC when the watchdog is enabled for this process, the interval at which to
// send WATCHDOG=1.
std::optional<Duration> watchdog_interval();

// File descriptors passed by socket activation ($LISTEN_FDS for this $LISTEN_PID), from fd 3 on.
std::vector<int> listen_fds();

// Feeds the watchdog only while every shard answers: each tick posts a ping to every executor and
// sends WATCHDOG=1 only when all pings of the previous tick came back, so one blocked shard makes
// systemd restart the daemon. Runs until cancelled.
Task<void> feed_watchdog(std::vector<asio::any_io_executor> shards, Duration interval);

}  // namespace skyd::systemd
