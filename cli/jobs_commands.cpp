#include "cli/jobs_commands.hpp"

#include "cli/replies.hpp"

#include "cli/daemon_client.hpp"
#include "cli/help.hpp"
#include "cli/queue_records.hpp"
#include "cli/submission.hpp"
#include "cli/table.hpp"
#include "cli/uploads.hpp"
#include "daemon/spec/task_json.hpp"
#include "reactor/numbers.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <limits>
#include <map>
#include <thread>

namespace skyd::cli {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool is_terminal(const std::string& status) {
  return status == "SUCCEEDED" || status == "CANCELLED" || status.starts_with("FAILED");
}

const char* colour_of(const std::string& status) {
  if (status == "PENDING" || status == "STARTING") return "\033[34m";
  if (status == "RUNNING" || status == "SUCCEEDED") return "\033[32m";
  if (status == "RECOVERING") return "\033[36m";
  if (status == "CANCELLING" || status == "CANCELLED") return "\033[33m";
  return "\033[31m";
}

std::string coloured(const std::string& status) {
  static const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  return terminal ? colour_of(status) + status + "\033[0m" : status;
}

int exit_code_for(const std::string& status) {
  if (status == "SUCCEEDED") return kExitSucceeded;
  if (status == "CANCELLED" || status == "CANCELLING") return kExitCancelled;
  if (status.starts_with("FAILED")) return kExitFailed;
  return kExitNotFinished;
}

}  // namespace

std::string format_age(double seconds) {
  if (seconds < 0) seconds = 0;
  auto plural = [](long n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many) + " ago";
  };
  if (seconds < 60) return plural(static_cast<long>(seconds), "sec", "secs");
  if (seconds < 3600) return plural(static_cast<long>(seconds / 60), "min", "mins");
  if (seconds < 86400) return plural(static_cast<long>(seconds / 3600), "hr", "hrs");
  return plural(static_cast<long>(seconds / 86400), "day", "days");
}

std::string format_duration(double seconds) {
  if (seconds < 1) return "< 1s";
  long total = static_cast<long>(seconds);
  const long days = total / 86400, hours = total % 86400 / 3600, minutes = total % 3600 / 60,
             secs = total % 60;
  std::string out;
  if (days) out += std::to_string(days) + "d ";
  if (days || hours) out += std::to_string(hours) + "h ";
  if (days || hours || minutes) out += std::to_string(minutes) + "m ";
  out += std::to_string(secs) + "s";
  return out;
}

// ---- queue -------------------------------------------------------------------------------------

namespace {
constexpr const char* kQueueUsage =
    "usage: sky jobs queue [OPTIONS]\n"
    "\n"
    "List managed jobs, newest first, each pipeline with its tasks.\n"
    "\n"
    "options:\n"
    "  -a, --all               every job, not only the latest --limit\n"
    "  -s, --skip-finished     only jobs still in progress\n"
    "  -u, --all-users         every user's jobs, with a USER column\n"
    "  -v, --verbose           more columns: STARTED, INFRA, RESOURCES, COST, ON-DEMAND COST,\n"
    "                          CHECKPOINT (the work the task last reported), DETAILS\n"
    "  -r, --refresh           taken for SkyPilot's scripts: skyd's answer is always current\n"
    "  -l, --limit N           how many of the latest jobs (default 50)\n"
    "  -o, --output FORMAT     table (default) or json: one record per task, with SkyPilot's\n"
    "                          field names (job_id, task_id, status, ...) and skyd's as extras\n"
    "  -h, --help              this text\n";

// The cost ledger's columns (-v): what the runs cost, and what they would have cost on demand.
std::string dollars(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "$%.4f", value);
  return text;
}

// DETAILS (-v): why a job waits, or why it failed.
std::string details_of(const Json& job, const Json& task) {
  const std::string reason = text(task, "failure_reason");
  if (!reason.empty()) return "Failure: " + reason;
  const std::string details = text(job, "details");
  return details.empty() ? "-" : details;
}

std::vector<std::string> task_cells(const Json& job, const Json& task, bool multi, bool all_users,
                                    bool verbose, double now) {
  const std::string status = text(task, "status");
  const double submitted = number(task, "submitted_at");
  const std::string name = multi ? text(task, "name") : text(job, "name");
  std::vector<std::string> cells = {
      multi ? " \u21b3" : std::to_string(static_cast<long long>(number(job, "id"))),
      multi ? std::to_string(static_cast<int>(number(task, "index"))) : "-", name};
  if (all_users) cells.push_back(text(job, "user"));
  const double started = number(task, "started_at", -1);
  cells.push_back(text(task, "resources", "-"));
  cells.push_back(format_age(now - submitted));
  cells.push_back(format_duration(number(task, "total_duration")));
  cells.push_back(started < 0 ? "-" : format_duration(number(task, "job_duration")));
  cells.push_back(std::to_string(static_cast<int>(number(task, "recovery_count"))));
  const std::string details = text(job, "details");
  cells.push_back(coloured(status) +
                  (status == "PENDING" && !details.empty() ? " (" + details + ")" : ""));
  if (verbose) {
    cells.push_back(started < 0 ? "-" : format_age(now - started));
    cells.push_back(task_infra(task));
    cells.push_back(task_cluster_resources(task));
    cells.push_back(dollars(number(task, "cost_usd")));
    cells.push_back(dollars(number(task, "on_demand_cost_usd")));
    const double checkpoint = number(task, "reported_work_seconds", -1);
    cells.push_back(checkpoint < 0 ? "-" : checkpoint < 1 ? "0s" : format_duration(checkpoint));
    cells.push_back(details_of(job, task));
  }
  return cells;
}
}  // namespace

int jobs_queue_command(const std::vector<std::string>& args, const std::string& socket) {
  if (asks_for_help(args)) {
    std::cout << kQueueUsage;
    return 0;
  }
  bool all = false, skip_finished = false, all_users = false, verbose = false, json_output = false;
  int limit = 50;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "-a" || arg == "--all")
      all = true;
    else if (arg == "-s" || arg == "--skip-finished")
      skip_finished = true;
    else if (arg == "-u" || arg == "--all-users")
      all_users = true;
    else if (arg == "-v" || arg == "--verbose")
      verbose = true;
    else if (arg == "-r" || arg == "--refresh")
      continue;  // SkyPilot restarts a stopped controller; skyd's list is always live
    else if ((arg == "-l" || arg == "--limit") && i + 1 < args.size())
      limit = std::atoi(args[++i].c_str());
    else if ((arg == "-o" || arg == "--output") && i + 1 < args.size()) {
      const auto& format = args[++i];
      if (format != "json" && format != "table")
        return usage_error("--output is table or json", kQueueUsage);
      json_output = format == "json";
    } else {
      return usage_error("unknown option '" + arg + "'", kQueueUsage);
    }
  }
  DaemonClient client(socket);
  std::string target = "/v1/jobs?limit=" + std::to_string(all ? 1000000 : limit + 1);
  if (skip_finished) target += "&skip_finished=1";
  if (all_users) target += "&all_users=1";
  // The table's in-progress line counts every job, not only the page shown: skyd counts in SQL.
  if (!json_output) target += "&summary=1";
  auto reply = call_json(client, "GET", target);
  if (!reply) {
    std::cerr << reply.error().detail << "\n";
    return 1;
  }
  Json::Array jobs = reply->find("jobs") && reply->find("jobs")->as_array()
                         ? *reply->find("jobs")->as_array()
                         : Json::Array{};
  const bool truncated = !all && static_cast<int>(jobs.size()) > limit;
  if (truncated) jobs.resize(static_cast<std::size_t>(limit));
  if (json_output) {
    std::cout << flat_task_records(Json(jobs)).dump() << "\n";
    return 0;
  }

  std::cout << "Fetching managed job statuses...\n";
  std::cout << "Managed jobs" << (skip_finished ? " (showing in-progress jobs only)" : "") << "\n";
  std::map<std::string, long long> in_progress;
  if (const Json* counts = reply->find("status_counts"); counts && counts->as_object()) {
    for (const auto& [status, count] : *counts->as_object()) {
      if (count.as_int().value_or(0) > 0) in_progress[status] = *count.as_int();
    }
  } else {  // a skyd without summaries: the page's own tasks
    for (const auto& job : jobs) {
      for (const auto& task : *job.find("tasks")->as_array()) {
        const std::string status = text(task, "status");
        if (!is_terminal(status)) ++in_progress[status];
      }
    }
  }
  if (in_progress.empty()) {
    std::cout << "No in-progress managed jobs.\n";
  } else {
    std::string summary;
    for (const auto& [status, count] : in_progress)
      summary += (summary.empty() ? "" : ", ") + std::to_string(count) + " " + status;
    std::cout << "In progress tasks: " << summary << "\n";
  }
  std::vector<std::string> headers = {"ID", "TASK", "NAME"};
  if (all_users) headers.push_back("USER");
  for (const char* header :
       {"REQUESTED", "SUBMITTED", "TOT. DURATION", "JOB DURATION", "#RECOVERIES", "STATUS"}) {
    headers.push_back(header);
  }
  if (verbose) {
    for (const char* header :
         {"STARTED", "INFRA", "RESOURCES", "COST", "ON-DEMAND COST", "CHECKPOINT", "DETAILS"}) {
      headers.push_back(header);
    }
  }
  Table table(headers);
  const double now = now_seconds();
  for (const auto& job : jobs) {
    const auto& tasks = *job.find("tasks")->as_array();
    if (tasks.size() == 1) {
      table.add_row(task_cells(job, tasks.front(), false, all_users, verbose, now));
      continue;
    }
    // A pipeline: the job's own row, its tasks, then a blank row.
    double recoveries = 0, job_duration = 0, cost = 0, on_demand_cost = 0;
    std::string current;
    for (const auto& task : tasks) {
      recoveries += number(task, "recovery_count");
      job_duration += number(task, "job_duration");
      cost += number(task, "cost_usd");
      on_demand_cost += number(task, "on_demand_cost_usd");
      if (current.empty() && text(task, "status") != "SUCCEEDED")
        current = std::to_string(static_cast<int>(number(task, "index")));
    }
    const std::string status = text(job, "status");
    std::vector<std::string> cells = {std::to_string(static_cast<long long>(number(job, "id"))), "",
                                      text(job, "name")};
    if (all_users) cells.push_back(text(job, "user"));
    const double ended = number(job, "ended_at", -1);
    cells.push_back("-");
    cells.push_back(format_age(now - number(job, "submitted_at")));
    cells.push_back(format_duration((ended < 0 ? now : ended) - number(job, "submitted_at")));
    cells.push_back(format_duration(job_duration));
    cells.push_back(std::to_string(static_cast<int>(recoveries)));
    cells.push_back(coloured(status) +
                    (is_terminal(status) || current.empty() ? "" : " (task: " + current + ")"));
    if (verbose) {
      cells.insert(cells.end(), {"-", "-", "-", dollars(cost), dollars(on_demand_cost), "-"});
      const std::string reason = text(job, "failure_reason");
      cells.push_back(reason.empty() ? "-" : "Failure: " + reason);
    }
    table.add_row(cells);
    for (const auto& task : tasks)
      table.add_row(task_cells(job, task, true, all_users, verbose, now));
    table.add_row({});
  }
  std::cout << table.render();
  if (truncated) {
    std::cout << "Only showing the latest " << limit
              << " managed jobs(use --limit to show more managed jobs or --all to show all managed "
                 "jobs)\n";
  }
  return 0;
}

// ---- logs --------------------------------------------------------------------------------------

namespace {
constexpr const char* kLogsUsage =
    "usage: sky jobs logs [OPTIONS] [JOB_ID] [TASK]\n"
    "\n"
    "Stream a managed job's logs (the latest job's without JOB_ID). TASK is a pipeline task's\n"
    "ID or name. A multi-node task's lines carry their node, as in SkyPilot:\n"
    "(head, rank=0, pid=N), (worker1, rank=1, pid=N, ip=IP), (setup pid=N).\n"
    "\n"
    "options:\n"
    "  -n, --name NAME         the running job with this name instead of JOB_ID\n"
    "  --node RANK             only this node's lines (0 is the head)\n"
    "  --follow / --no-follow  keep streaming until the job ends (default), or stop at the end\n"
    "  --controller            the controller's decisions for the job instead of its output\n"
    "  -r, --refresh           taken for SkyPilot's scripts: skyd's answer is always current\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 succeeded, 100 failed, 101 not finished, 102 not found, 103 cancelled\n";

// The index of the task named by `which` (an index or a task name); a message when none is.
Result<int> task_index_of(const Json& job, const std::string& which) {
  const auto& tasks = *job.find("tasks")->as_array();
  if (auto index = parse_int64(which); index && *index >= 0) {
    if (*index < static_cast<std::int64_t>(tasks.size())) return static_cast<int>(*index);
  }
  for (const auto& task : tasks) {
    if (text(task, "name") == which) return static_cast<int>(number(task, "index"));
  }
  std::string names;
  for (const auto& task : tasks) names += (names.empty() ? "" : ", ") + text(task, "name");
  return make_error(NetErrc::kProtocol, "job " + text(job, "name") + " has no task '" + which +
                                            "' (its tasks: " + names + ")");
}

// While the job waits for its machines: one line per status for scripts, a live line with the
// time waited when a person watches.
void wait_for_start(DaemonClient& client, long long id) {
  static const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  static constexpr const char* kSpinner[] = {"|", "/", "-", "\\"};
  const double began = now_seconds();
  std::string last;
  bool live_line = false;
  for (int tick = 0;; ++tick) {
    auto current = call_json(client, "GET", "/v1/jobs/" + std::to_string(id));
    if (!current) break;
    const std::string status = text(*current, "status");
    if (status != "PENDING" && status != "STARTING") break;
    if (terminal) {
      const std::string details = text(*current, "details");
      std::cout << "\r\033[K" << kSpinner[tick % 4]
                << " Waiting for task to start (status: " << status
                << (details.empty() ? "" : ", " + details) << ") "
                << format_duration(now_seconds() - began) << std::flush;
      live_line = true;
    } else if (status != last) {
      std::cout << "Waiting for task to start (status: " << status << ").\n" << std::flush;
    }
    last = status;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a CLI process, not a reactor
  }
  if (live_line) std::cout << "\r\033[K" << std::flush;
}

struct LogRequest {
  std::optional<std::string> task;  // an index or a name
  std::optional<int> node;          // one node's lines
  bool follow = true;
  bool controller = false;
};

// Streams the job's logs to stdout; returns the exit code from the job's status afterwards.
int stream_job(DaemonClient& client, long long id, const LogRequest& request) {
  auto job = call_json(client, "GET", "/v1/jobs/" + std::to_string(id));
  if (!job) {
    std::cerr << "No managed job with ID " << id << " found.\n";
    return kExitNotFound;
  }
  std::optional<int> task;
  if (request.task) {
    auto index = task_index_of(*job, *request.task);
    if (!index) {
      std::cerr << index.error().detail << "\n";
      return kExitNotFound;
    }
    task = *index;
  }
  const auto tasks = job->find("tasks")->as_array()->size();
  if (!request.controller && !task && tasks > 1) {
    std::cout << "Hint: This job has " << tasks << " tasks. Use 'sky jobs logs " << id
              << " TASK' to view logs for a specific task (TASK is the task ID or name).\n";
  }
  std::string target =
      "/v1/jobs/" + std::to_string(id) + "/logs?follow=" + (request.follow ? "1" : "0");
  if (task) target += "&task=" + std::to_string(*task);
  if (request.node) target += "&node=" + std::to_string(*request.node);
  if (request.controller) target += "&controller=1";
  if (request.follow && !request.controller) wait_for_start(client, id);
  auto streamed = client.stream(target, [](std::string_view piece) {
    std::cout.write(piece.data(), static_cast<std::streamsize>(piece.size()));
    std::cout.flush();
    return true;
  });
  if (!streamed) {
    std::cerr << streamed.error().detail << "\n";
    return 1;
  }
  if (streamed->status >= 400) {
    std::cerr << http::error_message_of(*streamed) << "\n";
    return streamed->status == 404 ? kExitNotFound : 1;
  }
  auto final_state = call_json(client, "GET", "/v1/jobs/" + std::to_string(id));
  if (!final_state) {
    // The job was there a moment ago: skyd stopped (an upgrade) or cannot answer right now.
    std::cerr << "The stream ended before job " << id << " did (" << final_state.error().detail
              << "); follow it again with: sky jobs logs " << id << "\n";
    return kExitNotFinished;
  }
  const std::string status = text(*final_state, "status");
  if (!is_terminal(status)) return kExitNotFinished;
  std::cout << "Managed job finished: " << id << " (status: " << status << ").\n";
  if (status != "SUCCEEDED") {
    const std::string reason = text(*final_state, "failure_reason");
    if (!reason.empty()) std::cout << "Failure: " << reason << "\n";
  }
  return exit_code_for(status);
}
}  // namespace

int jobs_logs_command(const std::vector<std::string>& args, const std::string& socket) {
  if (asks_for_help(args)) {
    std::cout << kLogsUsage;
    return 0;
  }
  std::optional<std::int64_t> id;
  std::optional<std::string> name;
  LogRequest request;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "--no-follow") {
      request.follow = false;
    } else if (arg == "--follow") {
      request.follow = true;
    } else if (arg == "--controller") {
      request.controller = true;
    } else if (arg == "-r" || arg == "--refresh") {
      // SkyPilot's restarts a stopped jobs controller; skyd's controller is always up.
    } else if ((arg == "-n" || arg == "--name") && i + 1 < args.size()) {
      name = args[++i];
    } else if (arg == "--node" && i + 1 < args.size()) {
      const auto rank = parse_int64(args[++i]);
      if (!rank || *rank < 0 || *rank > std::numeric_limits<int>::max())
        return usage_error("--node: '" + args[i] + "' is not a node rank", kLogsUsage);
      request.node = static_cast<int>(*rank);
    } else if (!arg.empty() && arg[0] == '-') {
      return usage_error("unknown option '" + arg + "'", kLogsUsage);
    } else if (std::isdigit(static_cast<unsigned char>(arg[0])) && !id && !name) {
      id = parse_id(arg);
      if (!id) return usage_error("'" + arg + "' is not a job ID (a positive integer)", kLogsUsage);
    } else if (!request.task) {
      // A task's ID or name; a number must be canonical.
      if (std::isdigit(static_cast<unsigned char>(arg[0]))) {
        const auto index = parse_int64(arg);
        if (!index || *index > std::numeric_limits<int>::max())
          return usage_error("'" + arg + "' is not a task index", kLogsUsage);
      }
      request.task = arg;
    } else {
      return usage_error("unexpected argument '" + arg + "'", kLogsUsage);
    }
  }
  if (id && name) return usage_error("give a job ID or --name, not both", kLogsUsage);
  DaemonClient client(socket);
  if (!id) {
    std::string target = "/v1/jobs?limit=1";
    if (name) target = "/v1/jobs?skip_finished=1&name=" + http::percent_encode(*name);
    auto reply = call_json(client, "GET", target);
    if (!reply) {
      std::cerr << reply.error().detail << "\n";
      return 1;
    }
    const auto& jobs = *reply->find("jobs")->as_array();
    if (jobs.empty()) {
      std::cerr << (name ? "No running managed job found with name '" + *name + "'."
                         : "No managed job found.")
                << "\n";
      return kExitNotFound;
    }
    if (name && jobs.size() > 1) {
      std::cerr << "Multiple running jobs found with name '" << *name << "'.\n";
      return 1;
    }
    id = static_cast<std::int64_t>(number(jobs.front(), "id"));
  }
  return stream_job(client, *id, request);
}

// ---- cancel ------------------------------------------------------------------------------------

namespace {
constexpr const char* kCancelUsage =
    "usage: sky jobs cancel [OPTIONS] [JOB_IDS...]\n"
    "\n"
    "Cancel managed jobs: the given IDs, the running job with a name, your jobs, or everyone's.\n"
    "\n"
    "options:\n"
    "  -n, --name NAME         the running job with this name\n"
    "  -a, --all               all of your own jobs\n"
    "  -u, --all-users         all jobs of all users (others' need skyd's admin group)\n"
    "  -y, --yes               skip the confirmation prompt\n"
    "  -h, --help              this text\n";

std::string id_list(const Json* ids) {
  std::string out;
  if (!ids || !ids->as_array()) return out;
  for (const auto& id : *ids->as_array())
    out += (out.empty() ? "" : ", ") + std::to_string(*id.as_int());
  return out;
}
std::size_t count(const Json* ids) {
  return ids && ids->as_array() ? ids->as_array()->size() : 0;
}
}  // namespace

int jobs_cancel_command(const std::vector<std::string>& args, const std::string& socket) {
  if (asks_for_help(args)) {
    std::cout << kCancelUsage;
    return 0;
  }
  std::vector<long long> ids;
  std::optional<std::string> name;
  bool all = false, all_users = false, yes = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg == "-y" || arg == "--yes")
      yes = true;
    else if (arg == "-a" || arg == "--all")
      all = true;
    else if (arg == "-u" || arg == "--all-users")
      all_users = true;
    else if ((arg == "-n" || arg == "--name") && i + 1 < args.size())
      name = args[++i];
    else if (!arg.empty() && std::all_of(arg.begin(), arg.end(), ::isdigit)) {
      const auto id = parse_id(arg);
      if (!id)
        return usage_error("'" + arg + "' is not a job ID (a positive integer)", kCancelUsage);
      ids.push_back(*id);
    } else {
      return usage_error("unexpected argument '" + arg + "'", kCancelUsage);
    }
  }
  const int selectors =
      (ids.empty() ? 0 : 1) + (name ? 1 : 0) + (all ? 1 : 0) + (all_users ? 1 : 0);
  if (selectors != 1) {
    std::string provided;
    if (!ids.empty()) provided += "JOB_IDS ";
    if (name) provided += "--name ";
    if (all) provided += "--all ";
    if (all_users) provided += "--all-users ";
    return usage_error(
        "Can only specify one of JOB_IDS, --name, or --all/--all-users. Provided '" +
            (provided.empty() ? std::string() : provided.substr(0, provided.size() - 1)) + "'.",
        kCancelUsage);
  }
  std::string question;
  Json body = Json::object();
  if (!ids.empty()) {
    Json list = Json::array();
    std::string shown;
    for (auto id : ids) {
      list.push_back(id);
      shown += (shown.empty() ? "" : ",") + std::to_string(id);
    }
    body.set("ids", std::move(list));
    question = ids.size() == 1 ? "Cancelling managed job with ID " + shown + ". Proceed?"
                               : "Cancelling managed jobs with IDs " + shown + ". Proceed?";
  } else if (name) {
    body.set("name", *name);
    question = "Cancelling '" + *name + "'. Proceed?";
  } else if (all_users) {
    body.set("all_users", true);
    question = "Cancelling all users' managed jobs. Proceed?";
  } else {
    body.set("all", true);
    question = "Cancelling all managed jobs. Proceed?";
  }
  if (!yes && !confirm(question)) return 0;
  DaemonClient client(socket);
  auto reply = call_json(client, "POST", "/v1/jobs/cancel", body.dump());
  if (!reply) {
    std::cerr << reply.error().detail << "\n";
    return 1;
  }
  const Json* scheduled = reply->find("scheduled");
  const Json* refused = reply->find("not_permitted");
  const Json* finished = reply->find("already_finished");
  const Json* missing = reply->find("not_found");
  if (count(scheduled) == 1)
    std::cout << "Job with ID " << id_list(scheduled) << " is scheduled to be cancelled.\n";
  if (count(scheduled) > 1)
    std::cout << "Jobs with IDs " << id_list(scheduled) << " are scheduled to be cancelled.\n";
  if (count(finished))
    std::cout << "Jobs with IDs " << id_list(finished) << " have already finished.\n";
  if (count(missing))
    std::cout << "No managed jobs with IDs " << id_list(missing) << " were found.\n";
  if (count(refused))
    std::cerr << "Jobs with IDs " << id_list(refused)
              << " belong to another user and were not cancelled.\n";
  if (count(scheduled) == 0) {
    if (name && count(finished) + count(missing) + count(refused) == 0) {
      std::cout << "No running job found with name '" << *name << "'.\n";
    } else if (count(finished) + count(missing) + count(refused) == 0) {
      std::cout << "No job to cancel.\n";
    }
  }
  return count(refused) ? 1 : 0;
}

int jobs_preempt_command(const std::vector<std::string>& args, const std::string& socket) {
  constexpr const char* kPreemptUsage =
      "usage: sky jobs preempt JOB_ID\n"
      "\n"
      "Preempt a job's spot machines on the local provider: a spot notice now, the machines go\n"
      "after the grace period, and the job recovers as it would on a cloud.\n"
      "\n"
      "options:\n"
      "  -h, --help              this text\n";
  if (asks_for_help(args)) {
    std::cout << kPreemptUsage;
    return 0;
  }
  if (args.size() != 1 || !parse_id(args[0])) return usage_error("give one job ID", kPreemptUsage);
  DaemonClient client(socket);
  auto reply = call_json(client, "POST", "/v1/jobs/" + args[0] + "/preempt");
  if (!reply) {
    std::cerr << reply.error().detail << "\n";
    return 1;
  }
  std::cout << "Preempting cluster " << text(*reply, "cluster") << " of job " << args[0]
            << ": a spot notice now, the machines go after the grace period.\n";
  return 0;
}

// ---- launch ------------------------------------------------------------------------------------

namespace {

// A --num-jobs launch returns at once (N logs do not fit one terminal): every id, by rank, then
// how to follow them. All N jobs carry the one name, as SkyPilot's do.
int report_batch(const Json& reply, const std::string& job_name) {
  std::vector<long long> ids;
  if (const Json* listed = reply.find("job_ids"); listed && listed->as_array()) {
    for (const Json& item : *listed->as_array()) ids.push_back(item.as_int().value_or(0));
  }
  if (ids.empty()) {
    std::cerr << "Error: skyd's answer names no job ids (is skyd older than this sky?)\n";
    return 1;
  }
  std::cout << "\u2713 Jobs submitted, IDs: " << format_id_ranges(ids) << "\n"
            << "Managed job '" << job_name << "' submitted as " << ids.size()
            << " jobs (SKYPILOT_JOB_RANK 0.." << ids.size() - 1 << ": rank 0 is job " << ids.front()
            << ", rank " << ids.size() - 1 << " is job " << ids.back() << ").\n"
            << "Useful commands:\n"
            << "  sky jobs queue               list the jobs\n"
            << "  sky jobs logs ID             stream one job's logs\n"
            << "  sky jobs cancel -n " << job_name << "   cancel them all\n"
            << std::flush;
  return 0;
}

}  // namespace

int submit_launch(const PreparedLaunch& launch, const LaunchOptions& options,
                  const std::string& socket) {
  std::cout << render_plan(launch);
  const bool batch = options.num_jobs > 1;
  const std::string question = batch
                                   ? "Launching " + std::to_string(options.num_jobs) +
                                         " managed jobs '" + launch.job_name + "'. Proceed?"
                                   : "Launching a managed job '" + launch.job_name + "'. Proceed?";
  if (!options.yes && !confirm(question)) return 0;
  Json body = Json::object();
  body.set("name", launch.job_name);
  body.set("pipeline", spec::to_json(launch.pipeline, spec::SecretMode::kInclude));
  if (const auto priority = spec::priority(launch.pipeline)) body.set("priority", *priority);
  if (batch) body.set("num_jobs", options.num_jobs);
  DaemonClient client(socket);
  // skyd never reads the paths the task names: the files go first, read as this user.
  auto uploads = upload_local_files(client, launch.pipeline);
  if (!uploads) {
    std::cerr << "Error: " << uploads.error().detail << "\n";
    return 1;
  }
  if (!uploads->as_array()->empty()) body.set("uploads", std::move(*uploads));
  auto reply = submit_jobs(client, std::move(body));
  if (!reply) {
    std::cerr << reply.error().detail << "\n";
    return 1;
  }
  const long long id = static_cast<long long>(number(*reply, "job_id"));
  if (batch) return report_batch(*reply, launch.job_name);
  // SkyPilot's line, then skyd's own (scripts read either).
  std::cout << "\u2713 Job submitted, ID: " << id << "\n"
            << "Managed job '" << launch.job_name << "' submitted.\nManaged Job ID: " << id << "\n"
            << std::flush;
  if (options.detach_run) {
    std::cout << "Useful commands:\n"
              << "  sky jobs logs " << id << "            stream the job's logs\n"
              << "  sky jobs logs --controller " << id << " the controller's decisions\n"
              << "  sky jobs cancel " << id << "          cancel the job\n"
              << "  sky jobs queue               list the jobs\n";
    return 0;
  }
  return stream_job(client, id, LogRequest{});
}

}  // namespace skyd::cli
