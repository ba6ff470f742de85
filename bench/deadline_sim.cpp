// Replays the measured spot traces against the deadline policies and prints the comparison of
// "Can't Be Late" (NSDI '24): cost relative to always-on-demand and deadlines missed.
//   deadline_sim [--traces DIR] [--quick]
// DIR defaults to $SKYD_SPOT_TRACES, then ../shared/data/spot-traces beside the source tree.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "bench/deadline_sim/experiment.hpp"

namespace {

using skyd::sim::RunRecord;
using skyd::sim::Summary;

struct Options {
  std::string traces;
  bool quick = false;
};

bool parse_options(int argc, char** argv, Options& options) {
  if (const char* env = std::getenv("SKYD_SPOT_TRACES")) options.traces = env;
  if (options.traces.empty()) options.traces = SKYD_SOURCE_DIR "/../shared/data/spot-traces";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      options.quick = true;
    } else if (std::strcmp(argv[i], "--traces") == 0 && i + 1 < argc) {
      options.traces = argv[++i];
    } else {
      std::fprintf(stderr, "usage: deadline_sim [--traces DIR] [--quick]\n");
      return false;
    }
  }
  return true;
}

std::string percent(double share) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", 100 * share);
  return text;
}

// How much of greedy's distance to the optimum Uniform Progress closes.
std::string gap_closed(const Summary& s) {
  const double gap =
      s.relative_cost[skyd::sim::kGreedyPolicy] - s.relative_cost[skyd::sim::kOptimumPolicy];
  if (gap <= 1e-9) return "-";
  return percent((s.relative_cost[skyd::sim::kGreedyPolicy] -
                  s.relative_cost[skyd::sim::kUniformProgressPolicy]) /
                 gap);
}

void print_row(const std::string& label, const Summary& s) {
  using namespace skyd::sim;
  std::printf("| %s | %d | %s | %s | %s | %s | %d | %d | %d |\n", label.c_str(), s.runs,
              percent(s.relative_cost[kGreedyPolicy]).c_str(),
              percent(s.relative_cost[kUniformProgressPolicy]).c_str(),
              percent(s.relative_cost[kOptimumPolicy]).c_str(), gap_closed(s).c_str(),
              s.missed[kGreedyPolicy], s.missed[kUniformProgressPolicy], s.missed[kOnDemandPolicy]);
}

void print_table(const std::string& title, const std::vector<RunRecord>& records,
                 const std::function<std::string(const RunRecord&)>& group_of) {
  std::map<std::string, std::vector<const RunRecord*>> groups;
  std::vector<const RunRecord*> all;
  for (const auto& record : records) {
    groups[group_of(record)].push_back(&record);
    all.push_back(&record);
  }
  std::printf(
      "\n| %s | runs | greedy | UP | optimum | gap closed by UP | missed greedy | "
      "missed UP | missed on-demand |\n",
      title.c_str());
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [label, runs] : groups) print_row(label, skyd::sim::summarize(runs));
  print_row("**all**", skyd::sim::summarize(all));
}

std::string by_deadline(const RunRecord& r) {
  char text[64];
  std::snprintf(text, sizeof text, "slack %3.0f%% (job/deadline %.2f), overhead %2ldm",
                100 * r.slack_ratio, 1 / (1 + r.slack_ratio),
                static_cast<long>(r.job.restart_overhead.count() / 60));
  return text;
}

std::string by_job_length(const RunRecord& r) {
  return "job " + std::to_string(r.job.work.count() / 3600) + "h";
}

std::string by_trace_group(const RunRecord& r) {
  const auto& name = r.trace->name;
  return name.substr(0, name.find('/', name.find('/') + 1));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) return 2;
  const auto set = skyd::sim::load_trace_dir(options.traces);
  for (const auto& error : set.errors) std::fprintf(stderr, "deadline_sim: %s\n", error.c_str());
  if (set.traces.empty()) return 1;

  const skyd::sim::Prices prices;
  const auto grid = options.quick ? skyd::sim::quick_grid() : skyd::sim::full_grid();
  const auto began = std::chrono::steady_clock::now();
  const auto records = skyd::sim::run_grid(set.traces, grid, prices);
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - began;

  std::printf("%zu traces from %s; %zu runs in %.1f s%s\n", set.traces.size(),
              options.traces.c_str(), records.size(), took.count(),
              options.quick ? " (quick)" : "");
  std::printf("prices per instance-hour: on-demand $%.2f, spot $%.4f (spot = %.3f of on-demand)\n",
              prices.on_demand_per_hour, prices.spot_per_hour,
              prices.spot_per_hour / prices.on_demand_per_hour);
  std::printf("cost columns: mean cost relative to always-on-demand (lower is better)\n");
  print_table("deadline", records, by_deadline);
  print_table("job length", records, by_job_length);
  print_table("traces", records, by_trace_group);
  return 0;
}
