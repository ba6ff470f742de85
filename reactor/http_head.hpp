#pragma once
// The status line and header block of a response with a body of known size, written by hand: one
// string, sent with the body in one write, instead of a beast message that allocates each field.

#include "reactor/http_types.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace skyd::http {

// "HTTP/1.1 200 OK\r\n" + the headers + Content-Length (none for 1xx, 204 and 304, which have
// no body) + "Connection: close" unless the connection is kept + "\r\n". A handler's own
// Content-Length, Transfer-Encoding or Connection is left out: the framing is the server's.
// nullopt when a header name is not a token or a value holds CR, LF or NUL: sent, it would split
// the response.
// Whether a response with this status carries a body (1xx, 204 and 304 do not).
bool status_has_body(int status);

// Whether a header may be sent: its name an RFC 9110 token, its value free of CR, LF and NUL.
bool sendable_header(std::string_view name, std::string_view value);
// Content-Length, Transfer-Encoding or Connection (any case): the server's to set, not a handler's.
bool frames_the_message(std::string_view name);

std::optional<std::string> response_head(int status, const Headers& headers, std::size_t body_size,
                                         bool keep_alive);

}  // namespace skyd::http
