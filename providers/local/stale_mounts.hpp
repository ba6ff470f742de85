#pragma once
// A local machine's bucket mounts (skylet's rclone FUSE mounts under its sandbox) outlive a skylet
// that was killed mid-drain: rclone goes with the machine's process groups, and its mount is left
// dead ("transport endpoint is not connected"), which no one can delete beneath. Before a
// cluster's directory is removed, every mount under it is detached. Blocking: call it off a shard.

#include <string>

namespace skyd::providers {

// Lazily unmounts every mount point under `dir` (as root with umount2, else with fusermount3).
// Returns how many were detached.
int detach_mounts_under(const std::string& dir);

}  // namespace skyd::providers
