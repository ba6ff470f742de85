#include "reactor/metrics.hpp"

#include "reactor/log.hpp"

#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <variant>

#include <fmt/format.h>

namespace skyd::metrics {
namespace {

std::string format_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void write_labels(std::string& out, const std::vector<std::string>& names,
                  const LabelValues& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    out += escape_label_value(i < values.size() ? values[i] : std::string());
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

[[noreturn]] void misuse(const std::string& what) {
  logger("metrics")->critical("metrics registry misuse: {}", what);
  std::abort();
}

}  // namespace

std::string_view to_string(Kind kind) {
  switch (kind) {
    case Kind::kCounter:
      return "counter";
    case Kind::kGauge:
      return "gauge";
    case Kind::kHistogram:
      return "histogram";
  }
  return "untyped";
}

std::string escape_label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Gauge::add(double delta) {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + delta, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<std::uint64_t>[bounds->size() + 1]) {
  for (std::size_t i = 0; i <= bounds_->size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  const auto at = std::lower_bound(bounds_->begin(), bounds_->end(), value);
  buckets_[static_cast<std::size_t>(at - bounds_->begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.add(value);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot out;
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_->size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(running);
  }
  out.sum = sum_.value();
  // The count is the +Inf bucket, so a scrape never shows a count below a bucket.
  out.count = running;
  return out;
}

template <typename Series>
Series& Family<Series>::with(const LabelValues& values) {
  if (values.size() != labels_.size())
    misuse(name_ + " takes " + std::to_string(labels_.size()) + " label values, got " +
           std::to_string(values.size()));
  std::lock_guard lock(mutex_);
  auto found = series_.find(values);
  if (found == series_.end()) {
    std::unique_ptr<Series> made;
    if constexpr (std::is_same_v<Series, Histogram>) {
      made = std::make_unique<Histogram>(&bounds_);
    } else {
      made = std::make_unique<Series>();
    }
    found = series_.emplace(values, std::move(made)).first;
  }
  return *found->second;
}

template <typename Series>
void Family<Series>::write(std::string& out) const {
  out += "# HELP " + name_ + " " + help_ + "\n";
  out += "# TYPE " + name_ + " " + std::string(to_string(kind_)) + "\n";
  std::lock_guard lock(mutex_);
  for (const auto& [values, series] : series_) {
    if constexpr (std::is_same_v<Series, Histogram>) {
      const auto snapshot = series->snapshot();
      for (std::size_t i = 0; i <= bounds_.size(); ++i) {
        out += name_ + "_bucket";
        const std::string le = i < bounds_.size() ? format_number(bounds_[i]) : "+Inf";
        write_labels(out, labels_, values, "le", le);
        out += " " + std::to_string(snapshot.cumulative[i]) + "\n";
      }
      out += name_ + "_sum";
      write_labels(out, labels_, values);
      out += " " + format_number(snapshot.sum) + "\n";
      out += name_ + "_count";
      write_labels(out, labels_, values);
      out += " " + std::to_string(snapshot.count) + "\n";
    } else {
      out += name_;
      write_labels(out, labels_, values);
      if constexpr (std::is_same_v<Series, Counter>) {
        out += " " + std::to_string(series->value()) + "\n";
      } else {
        out += " " + format_number(series->value()) + "\n";
      }
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                               0.5,   1,      2.5,   5,    10,    30,   60};
  return kBuckets;
}

struct Registry::Entry {
  Kind kind;
  std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
               std::unique_ptr<Family<Histogram>>>
      family;
};

Registry::Registry() = default;
Registry::~Registry() = default;

template <typename Series>
Family<Series>& Registry::family(Kind kind, std::string name, std::string help,
                                 std::vector<std::string> labels, std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& slot = families_[name];
  if (!slot) {
    std::unique_ptr<Family<Series>> made(
        new Family<Series>(kind, name, std::move(help), std::move(labels), std::move(bounds)));
    slot.reset(new Entry{kind, std::move(made)});
  }
  if (slot->kind != kind) misuse(name + " is registered as another kind");
  return *std::get<std::unique_ptr<Family<Series>>>(slot->family);
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  return family<Counter>(Kind::kCounter, std::move(name), std::move(help), std::move(labels), {});
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  return family<Gauge>(Kind::kGauge, std::move(name), std::move(help), std::move(labels), {});
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  return family<Histogram>(Kind::kHistogram, std::move(name), std::move(help), std::move(labels),
                           std::move(bounds));
}

std::string Registry::expose() const {
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : families_) {
    std::visit([&out](const auto& family) { family->write(out); }, entry->family);
  }
  return out;
}

Registry& registry() {
  static Registry* global = new Registry();  // never destroyed: shards may record during exit
  return *global;
}

Task<void> measure_loop_lag(std::size_t shard, Duration interval) {
  auto& lag =
      registry()
          .histogram("skyd_reactor_loop_lag_seconds",
                     "How late a timer fires on the shard's event loop", {"shard"},
                     {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5})
          .with({std::to_string(shard)});
  auto& last = registry()
                   .gauge("skyd_reactor_loop_lag_last_seconds",
                          "The most recent loop lag measurement of the shard", {"shard"})
                   .with({std::to_string(shard)});
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    const auto due = std::chrono::steady_clock::now() + interval;
    timer.expires_at(due);
    co_await timer.async_wait(asio::use_awaitable);
    const auto late = std::chrono::steady_clock::now() - due;
    const double seconds = std::max(0.0, std::chrono::duration<double>(late).count());
    lag.observe(seconds);
    last.set(seconds);
  }
}

}  // namespace skyd::metrics
