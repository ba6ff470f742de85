#include "daemon/skylet/line_prefix.hpp"

namespace skyd::skylet {

std::string LinePrefixer::apply(std::string_view piece) {
  std::string out;
  out.reserve(piece.size() + prefix_.size());
  while (!piece.empty()) {
    if (at_line_start_) out += prefix_;
    const std::size_t end = piece.find('\n');
    if (end == std::string_view::npos) {
      out += piece;
      at_line_start_ = false;
      break;
    }
    out += piece.substr(0, end + 1);
    piece.remove_prefix(end + 1);
    at_line_start_ = true;
  }
  return out;
}

std::string node_log_prefix(std::string_view label, long pid, std::string_view ip, bool is_setup) {
  std::string out = "(";
  out += is_setup ? std::string_view("setup") : label;
  out += " pid=" + std::to_string(pid);
  if (!ip.empty()) out += ", ip=" + std::string(ip);
  return out + ") ";
}

}  // namespace skyd::skylet
