#include "reactor/metrics.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace skyd::metrics {
namespace {

// A reader of the text exposition format, strict enough to catch malformed output: every sample
// belongs to a family announced by # HELP and # TYPE, names and label names are valid, label
// values are quoted with only \\, \" and \n escapes, and values parse as numbers.
struct Parsed {
  std::map<std::string, std::string> types;  // family -> counter|gauge|histogram
  std::map<std::string, double> samples;     // "name{a=\"x\"}" -> value
  std::vector<std::string> errors;
};

bool valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') return false;
  return true;
}

Parsed parse_exposition(const std::string& text) {
  Parsed out;
  std::istringstream lines(text);
  std::string line;
  std::string help_for;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) {
      help_for = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      if (name != help_for) out.errors.push_back("TYPE without HELP: " + line);
      if (type != "counter" && type != "gauge" && type != "histogram")
        out.errors.push_back("bad type: " + line);
      out.types[name] = type;
      continue;
    }
    std::size_t at = 0;
    while (at < line.size() && line[at] != '{' && line[at] != ' ') ++at;
    const std::string name = line.substr(0, at);
    if (!valid_name(name)) out.errors.push_back("bad name: " + line);
    std::string key = name;
    if (at < line.size() && line[at] == '{') {
      key += '{';
      ++at;
      while (at < line.size() && line[at] != '}') {
        const auto eq = line.find('=', at);
        const std::string label = line.substr(at, eq - at);
        if (!valid_name(label) || eq == std::string::npos || line[eq + 1] != '"') {
          out.errors.push_back("bad label: " + line);
          break;
        }
        std::string value;
        std::size_t i = eq + 2;
        for (; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') {
            const char next = line[++i];
            if (next != '\\' && next != '"' && next != 'n')
              out.errors.push_back("bad escape: " + line);
            value += next == 'n' ? '\n' : next;
          } else {
            value += line[i];
          }
        }
        key += label + "=\"" + value + "\"";
        at = i + 1;
        if (at < line.size() && line[at] == ',') {
          key += ',';
          ++at;
        }
      }
      key += '}';
      ++at;
    }
    if (at >= line.size() || line[at] != ' ') {
      out.errors.push_back("no value: " + line);
      continue;
    }
    const std::string value = line.substr(at + 1);
    std::size_t used = 0;
    double number = 0;
    try {
      number = value == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(value, &used);
      if (value != "+Inf" && used != value.size()) out.errors.push_back("bad value: " + line);
    } catch (...) {
      out.errors.push_back("bad value: " + line);
    }
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      if (!out.types.contains(family) && family.ends_with(suffix))
        family = family.substr(0, family.size() - std::string(suffix).size());
    }
    if (!out.types.contains(family)) out.errors.push_back("sample before its TYPE: " + line);
    out.samples[key] = number;
  }
  return out;
}

TEST(Metrics, CountersAndGaugesParseBackWithTheirLabels) {
  Registry registry;
  auto& transitions = registry.counter("skyd_job_transitions_total", "Transitions", {"to"});
  transitions.with({"RUNNING"}).inc();
  transitions.with({"RUNNING"}).inc(2);
  transitions.with({"SUCCEEDED"}).inc();
  registry.gauge("skyd_jobs", "Jobs by status", {"status"}).with({"PENDING"}).set(4);
  registry.gauge("skyd_temperature", "No labels", {}).with().set(-1.5);

  const auto parsed = parse_exposition(registry.expose());
  EXPECT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  EXPECT_EQ(parsed.types.at("skyd_job_transitions_total"), "counter");
  EXPECT_EQ(parsed.types.at("skyd_jobs"), "gauge");
  EXPECT_EQ(parsed.samples.at("skyd_job_transitions_total{to=\"RUNNING\"}"), 3);
  EXPECT_EQ(parsed.samples.at("skyd_job_transitions_total{to=\"SUCCEEDED\"}"), 1);
  EXPECT_EQ(parsed.samples.at("skyd_jobs{status=\"PENDING\"}"), 4);
  EXPECT_EQ(parsed.samples.at("skyd_temperature"), -1.5);
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Registry registry;
  auto& latency =
      registry.histogram("skyd_pg_query_duration_seconds", "Latency", {"shard"}, {0.1, 0.01, 1})
          .with({"0"});
  latency.observe(0.005);
  latency.observe(0.05);
  latency.observe(0.05);
  latency.observe(5.0);
  latency.observe(std::chrono::milliseconds(100));  // on a bound: counted in that bucket

  const auto parsed = parse_exposition(registry.expose());
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  EXPECT_EQ(parsed.types.at("skyd_pg_query_duration_seconds"), "histogram");
  const std::string b = "skyd_pg_query_duration_seconds_bucket{shard=\"0\",le=\"";
  EXPECT_EQ(parsed.samples.at(b + "0.01\"}"), 1);
  EXPECT_EQ(parsed.samples.at(b + "0.1\"}"), 4);
  EXPECT_EQ(parsed.samples.at(b + "1\"}"), 4);
  EXPECT_EQ(parsed.samples.at(b + "+Inf\"}"), 5);
  EXPECT_EQ(parsed.samples.at("skyd_pg_query_duration_seconds_count{shard=\"0\"}"), 5);
  EXPECT_NEAR(parsed.samples.at("skyd_pg_query_duration_seconds_sum{shard=\"0\"}"), 5.205, 1e-9);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Registry registry;
  registry.counter("skyd_odd_total", "Odd labels", {"reason"}).with({"say \"hi\"\\\nbye"}).inc();
  const std::string text = registry.expose();
  EXPECT_NE(text.find(R"(reason="say \"hi\"\\\nbye")"), std::string::npos) << text;
  const auto parsed = parse_exposition(text);
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors.front();
  EXPECT_EQ(parsed.samples.at("skyd_odd_total{reason=\"say \"hi\"\\\nbye\"}"), 1);
}

TEST(Metrics, AskingForAFamilyTwiceReturnsTheSameSeries) {
  Registry registry;
  registry.counter("skyd_a_total", "A", {"x"}).with({"1"}).inc();
  registry.counter("skyd_a_total", "A", {"x"}).with({"1"}).inc();
  const auto parsed = parse_exposition(registry.expose());
  EXPECT_EQ(parsed.samples.at("skyd_a_total{x=\"1\"}"), 2);
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry registry;
  auto& family = registry.counter("skyd_hits_total", "Hits", {"shard"});
  auto& histogram = registry.histogram("skyd_lag_seconds", "Lag", {}).with();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&family, &histogram] {
      for (int i = 0; i < 10000; ++i) {
        family.with({"shared"}).inc();
        histogram.observe(0.002);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto parsed = parse_exposition(registry.expose());
  EXPECT_EQ(parsed.samples.at("skyd_hits_total{shard=\"shared\"}"), 40000);
  EXPECT_EQ(parsed.samples.at("skyd_lag_seconds_count"), 40000);
  EXPECT_NEAR(parsed.samples.at("skyd_lag_seconds_sum"), 80.0, 1e-6);
}

}  // namespace
}  // namespace skyd::metrics
