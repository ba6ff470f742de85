#pragma once
// The store's error codes. Every failure that leaves the store is one of these, with the server's
// message (and SQLSTATE, when there is one) kept in Error::detail for the logs.

#include "reactor/error.hpp"

#include <string>
#include <string_view>

namespace skyd::store {

enum class StoreErrc {
  kConflict = 1,       // unique violation, or a guarded update whose guard missed
  kRetryable,          // serialization failure or deadlock: run the whole transaction again
  kUnavailable,        // no connection, connection lost, server shutting down
  kNotFound,           // the row asked for does not exist
  kTimedOut,           // the statement passed its deadline and was cancelled on the server
  kIllegalTransition,  // a status change that docs/job-states.md does not allow
  kQuery,              // any other server-side error (syntax, constraint, bad data): a bug
};

std::string_view to_string(StoreErrc code);
const boost::system::error_category& store_category();
boost::system::error_code make_error_code(StoreErrc code);
Error make_error(StoreErrc code, std::string detail);

// Maps a SQLSTATE (five characters; empty when the server sent none) to the store's code.
StoreErrc classify_sqlstate(std::string_view sqlstate);

// True for the codes that a caller may retry with backoff (kRetryable, kUnavailable).
bool is_retryable(const Error& error);

}  // namespace skyd::store

template <>
struct boost::system::is_error_code_enum<skyd::store::StoreErrc> : std::true_type {};
