#pragma once
// Errors that cross a module boundary: a code to branch on plus a detail for people.
// Every module has its own small errc enum and category; this file holds the shared carrier and the
// reactor's own codes (network and coroutine plumbing).

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <exception>
#include <string>
#include <string_view>

namespace skyd {

struct Error {
  boost::system::error_code code;
  std::string detail;

  // "detail (code message)", or just the code's message when there is no detail.
  std::string message() const;
};

template <typename T>
using Result = boost::system::result<T, Error>;

// Lets Result<T>::value() throw on an error (only used inside modules and in tests).
[[noreturn]] void throw_exception_from_error(const Error& error, const boost::source_location& loc);

enum class NetErrc {
  kTimedOut = 1,
  kCancelled,
  kBodyTooLarge,
  kBadUrl,
  kConnectFailed,
  kTlsFailed,
  kProtocol,
  kClosed,
};

std::string_view to_string(NetErrc code);
const boost::system::error_category& net_category();
boost::system::error_code make_error_code(NetErrc code);
Error make_error(NetErrc code, std::string detail);
// An invalid_argument error: bad input, the detail naming the field and what was expected.
Error invalid_argument(std::string detail);
Error make_error(boost::system::error_code code, std::string detail);

// True for every way an operation reports that it was cancelled (our code and Asio's).
bool is_cancellation(const boost::system::error_code& code);
// The same for an exception, also when Asio's awaitable operators wrapped it (an `a || b` whose
// operands were all cancelled throws multiple_exceptions holding the first one's).
bool is_cancellation(const std::exception_ptr& error);
// What an exception says, for a log line.
std::string describe(const std::exception_ptr& error);

}  // namespace skyd

template <>
struct boost::system::is_error_code_enum<skyd::NetErrc> : std::true_type {};
