#include "reactor/error.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/multiple_exceptions.hpp>
#include <boost/system/system_error.hpp>

namespace skyd {

std::string Error::message() const {
  if (detail.empty()) return code.message();
  if (!code) return detail;
  return detail + " (" + code.message() + ")";
}

void throw_exception_from_error(const Error& error, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(error.code, error.detail), loc);
}

std::string_view to_string(NetErrc code) {
  switch (code) {
    case NetErrc::kTimedOut:
      return "timed out";
    case NetErrc::kCancelled:
      return "cancelled";
    case NetErrc::kBodyTooLarge:
      return "body too large";
    case NetErrc::kBadUrl:
      return "bad url";
    case NetErrc::kConnectFailed:
      return "connect failed";
    case NetErrc::kTlsFailed:
      return "tls failed";
    case NetErrc::kProtocol:
      return "protocol error";
    case NetErrc::kClosed:
      return "connection closed";
  }
  return "unknown";
}

namespace {
class NetCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "skyd.net"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<NetErrc>(value)));
  }
};
}  // namespace

const boost::system::error_category& net_category() {
  static const NetCategory category;
  return category;
}

boost::system::error_code make_error_code(NetErrc code) {
  return {static_cast<int>(code), net_category()};
}

Error make_error(NetErrc code, std::string detail) {
  return Error{make_error_code(code), std::move(detail)};
}

Error make_error(boost::system::error_code code, std::string detail) {
  return Error{code, std::move(detail)};
}

bool is_cancellation(const boost::system::error_code& code) {
  return code == boost::asio::error::operation_aborted || code == NetErrc::kCancelled;
}

Error invalid_argument(std::string detail) {
  return make_error(boost::system::errc::make_error_code(boost::system::errc::invalid_argument),
                    std::move(detail));
}

bool is_cancellation(const std::exception_ptr& error) {
  if (!error) return false;
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    return is_cancellation(e.code());
  } catch (const boost::asio::multiple_exceptions& e) {
    return is_cancellation(e.first_exception());
  } catch (...) {
    return false;
  }
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const boost::asio::multiple_exceptions& e) {
    return describe(e.first_exception());
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception of unknown type";
  }
}

}  // namespace skyd
