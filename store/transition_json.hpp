#pragma once
// The JSON array skyd_transitions (migration 0016) reads: one object per transition, with the
// fields skyd_transition takes as parameters. details and placement go in as strings, read as
// jsonb by the statement: what they hold can never become another field of the batch, and a
// malformed one fails the whole batch, and then each transition is written alone.

#include "store/job_repository.hpp"

#include <string>
#include <vector>

namespace skyd::store {

std::string transitions_json(const std::vector<TransitionRequest>& requests);

}  // namespace skyd::store
