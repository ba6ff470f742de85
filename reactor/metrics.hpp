#pragma once
// A small metrics registry with the Prometheus text exposition format. Any module, on any shard,
// looks a series up once (a short mutex-guarded map lookup) and then updates it with relaxed
// atomics, so the hot path takes no lock. The process-wide registry is `metrics::registry()`;
// tests may build their own. Series are never removed: label values must come from small sets
// (statuses, providers, regions, error classes), never from job ids or free text.

#include "reactor/coro.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace skyd::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double delta);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void observe(double value);
  void observe(Duration duration) { observe(std::chrono::duration<double>(duration).count()); }

  struct Snapshot {
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf
    double sum = 0;
    std::uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // per bound, then +Inf
  Gauge sum_;
  std::atomic<std::uint64_t> count_{0};
};

enum class Kind { kCounter, kGauge, kHistogram };
std::string_view to_string(Kind kind);

// One metric name with its label names; each distinct list of label values is one series.
template <typename Series>
class Family {
 public:
  // The series for these label values (one per label name, in order), created on first use.
  // The reference stays valid for the registry's lifetime.
  Series& with(const LabelValues& values);
  Series& with() { return with(LabelValues{}); }

 private:
  friend class Registry;
  Family(Kind kind, std::string name, std::string help, std::vector<std::string> labels,
         std::vector<double> bounds = {})
      : kind_(kind),
        name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        bounds_(std::move(bounds)) {}
  void write(std::string& out) const;

  Kind kind_;
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mutex_;
  std::map<LabelValues, std::unique_ptr<Series>> series_;
};

// Latency buckets, seconds: 1 ms to 60 s.
const std::vector<double>& default_latency_buckets();

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A family is registered once per name; asking again returns the same family (the help, kind
  // and labels of the first registration win; asking with another kind aborts).
  Family<Counter>& counter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds = default_latency_buckets());

  // Every family, in name order, in the text exposition format (version 0.0.4).
  std::string expose() const;

 private:
  struct Entry;
  template <typename Series>
  Family<Series>& family(Kind kind, std::string name, std::string help,
                         std::vector<std::string> labels, std::vector<double> bounds);

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>, std::less<>> families_;
};

// The process-wide registry skyd's modules record into and /metrics exposes.
Registry& registry();

// The Content-Type of the text exposition format.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// A label value or HELP text escaped for the exposition format.
std::string escape_label_value(std::string_view text);

// Measures how late a timer fires on the calling shard (its event loop's lag) every `interval`
// and records it in skyd_reactor_loop_lag_seconds{shard}. Runs until cancelled.
Task<void> measure_loop_lag(std::size_t shard, Duration interval);

}  // namespace skyd::metrics
