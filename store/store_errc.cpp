#include "store/store_errc.hpp"

namespace skyd::store {

std::string_view to_string(StoreErrc code) {
  switch (code) {
    case StoreErrc::kConflict:
      return "conflict";
    case StoreErrc::kRetryable:
      return "retryable";
    case StoreErrc::kUnavailable:
      return "unavailable";
    case StoreErrc::kNotFound:
      return "not found";
    case StoreErrc::kTimedOut:
      return "timed out";
    case StoreErrc::kIllegalTransition:
      return "illegal transition";
    case StoreErrc::kQuery:
      return "query failed";
  }
  return "unknown";
}

namespace {
class StoreCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "skyd.store"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<StoreErrc>(value)));
  }
};
}  // namespace

const boost::system::error_category& store_category() {
  static const StoreCategory category;
  return category;
}

boost::system::error_code make_error_code(StoreErrc code) {
  return {static_cast<int>(code), store_category()};
}

Error make_error(StoreErrc code, std::string detail) {
  return Error{make_error_code(code), std::move(detail)};
}

StoreErrc classify_sqlstate(std::string_view sqlstate) {
  if (sqlstate.size() != 5) return StoreErrc::kUnavailable;  // no answer from a server at all
  if (sqlstate == "23505") return StoreErrc::kConflict;
  if (sqlstate == "40001" || sqlstate == "40P01") return StoreErrc::kRetryable;
  if (sqlstate == "57014")
    return StoreErrc::kTimedOut;  // query_canceled: only our deadline sends it
  const std::string_view klass = sqlstate.substr(0, 2);
  // 08: connection exception; 57P01-57P03: the server is shutting down or not yet accepting;
  // 53300: too many connections.
  if (klass == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03" ||
      sqlstate == "53300") {
    return StoreErrc::kUnavailable;
  }
  return StoreErrc::kQuery;
}

bool is_retryable(const Error& error) {
  return error.code == StoreErrc::kRetryable || error.code == StoreErrc::kUnavailable;
}

}  // namespace skyd::store
