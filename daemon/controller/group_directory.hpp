#pragma once
// Where the tasks of a job group find each other. SkyPilot names each node
// `<task>-<rank>.<group>` and resolves the names through DNS or /etc/hosts, which skyd cannot
// edit on every provider (the local one runs on the host itself). skyd gives each task the same
// names with their addresses instead, in SKYD_JOBGROUP_HOSTS (hosts-file lines "<ip> <name>"),
// built once every sibling has its machines or has ended: a task's run starts after that.

#include "reactor/event.hpp"

#include <optional>
#include <string>
#include <vector>

namespace skyd::daemon {

struct GroupDirectory {
  GroupDirectory(asio::any_io_executor executor, std::string group_name,
                 std::vector<std::string> task_names)
      : name(std::move(group_name)),
        tasks(std::move(task_names)),
        ips(tasks.size()),
        ended(tasks.size(), false),
        changed(executor) {}

  std::string name;
  std::vector<std::string> tasks;
  std::vector<std::optional<std::vector<std::string>>> ips;  // each node's, by task, once placed
  std::vector<bool> ended;
  Notifier changed;

  void publish(int task, std::vector<std::string> node_ips) {
    ips[task] = std::move(node_ips);
    changed.notify_all();
  }
  void end(int task) {
    ended[task] = true;
    changed.notify_all();
  }
  // Every task has its machines or has ended.
  bool settled() const;
  // "<ip> <task>-<rank>.<group>" lines of every placed task.
  std::string hosts() const;
};

}  // namespace skyd::daemon
