#include "store/transition_json.hpp"

#include "reactor/json.hpp"

namespace skyd::store {
namespace {

void append_member(std::string& out, std::string_view name) {
  out += ",\"";
  out += name;
  out += "\":";
}

void append_text(std::string& out, std::string_view name, const std::optional<std::string>& text) {
  append_member(out, name);
  if (text) {
    append_json_string(out, *text);
  } else {
    out += "null";
  }
}

void append_transition(std::string& out, const TransitionRequest& request) {
  out += "{\"job\":" + std::to_string(request.job_id.value);
  append_member(out, "task");
  out += std::to_string(request.task_index);
  append_text(out, "from", std::string(to_string(request.from)));
  append_text(out, "to", std::string(to_string(request.to)));
  append_member(out, "terminal");
  out += is_terminal(request.to) ? "true" : "false";
  append_member(out, "lease");
  out += request.lease_epoch ? std::to_string(*request.lease_epoch) : "null";
  append_member(out, "restart");
  out += request.restart_on_error ? "true" : "false";
  append_text(out, "failure", request.failure_reason);
  append_member(out, "exit_codes");
  if (request.exit_codes) {
    out += '[';
    for (std::size_t i = 0; i < request.exit_codes->size(); ++i) {
      if (i) out += ',';
      out += std::to_string((*request.exit_codes)[i]);
    }
    out += ']';
  } else {
    out += "null";
  }
  append_text(out, "cluster", request.cluster_name);
  append_text(out, "placement", request.placement_json);
  append_text(out, "reason", request.reason);
  append_text(out, "details", request.details_json);
  append_text(out, "key", request.idempotency_key);
  out += '}';
}

}  // namespace

std::string transitions_json(const std::vector<TransitionRequest>& requests) {
  std::string out = "[";
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (i) out += ',';
    append_transition(out, requests[i]);
  }
  out += ']';
  return out;
}

}  // namespace skyd::store
