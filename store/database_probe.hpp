#pragma once
// The database's pulse: a statement (SELECT 1) on a connection of its own, every `interval`
// while the database answers and every `interval_while_down` while it does not, reported to
// DatabaseHealth as its connection source. A dedicated connection, so a pool whose connections
// are all busy is never mistaken for a database that is away. Works the same for the embedded
// server and an external one (DSN). Runs on one shard until cancelled.

#include "reactor/coro.hpp"
#include "store/database_health.hpp"

#include <string>

namespace skyd::store {

struct ProbeOptions {
  std::string conninfo;
  Duration interval = std::chrono::seconds(1);
  Duration interval_while_down = std::chrono::milliseconds(250);
  Duration deadline = std::chrono::seconds(2);  // for the connect and for each statement
};

Task<void> probe_database(ProbeOptions options, DatabaseHealth* health);

}  // namespace skyd::store
