#include "daemon/controller/shared_pipelines.hpp"

#include "daemon/spec/parser.hpp"
#include "daemon/spec/task_json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace skyd::daemon {
namespace {

std::string stored_spec(const std::string& run) {
  auto pipeline = spec::parse_pipeline("name: copy\nrun: " + run + "\n", "task.yaml", {});
  EXPECT_TRUE(pipeline) << pipeline.error().message();
  return spec::to_json(*pipeline, spec::SecretMode::kInclude).dump();
}

TEST(SharedPipelines, IdenticalSpecsShareOneParsedPipelineAndDifferentOnesDoNot) {
  SharedPipelines pipelines;
  const std::string spec = stored_spec("echo one");
  auto first = pipelines.read(spec, "job 1");
  auto second = pipelines.read(spec, "job 2");
  auto other = pipelines.read(stored_spec("echo two"), "job 3");
  ASSERT_TRUE(first && second && other);
  EXPECT_EQ(first->get(), second->get());
  EXPECT_NE(first->get(), other->get());
  ASSERT_EQ((*first)->tasks.size(), 1u);
  EXPECT_EQ((*first)->tasks[0].run, "echo one");
  EXPECT_EQ((*other)->tasks[0].run, "echo two");
  EXPECT_EQ(pipelines.held(), 2u);
}

TEST(SharedPipelines, APipelineNoRunnerHoldsIsForgottenAndReadAgain) {
  SharedPipelines pipelines;
  const std::string spec = stored_spec("echo once");
  {
    auto held = pipelines.read(spec, "job 1");
    ASSERT_TRUE(held);
    EXPECT_EQ(pipelines.held(), 1u);
  }
  EXPECT_EQ(pipelines.held(), 0u);
  auto again = pipelines.read(spec, "job 2");
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->tasks[0].run, "echo once");
}

TEST(SharedPipelines, ASpecThatDoesNotParseIsRefusedWithTheCallersNameEachTime) {
  SharedPipelines pipelines;
  auto first = pipelines.read("{not json", "job 7");
  auto second = pipelines.read("{not json", "job 8");
  ASSERT_FALSE(first);
  ASSERT_FALSE(second);
  EXPECT_NE(first.error().message().find("job 7"), std::string::npos) << first.error().message();
  EXPECT_NE(second.error().message().find("job 8"), std::string::npos) << second.error().message();
  EXPECT_EQ(pipelines.held(), 0u);
}

TEST(SharedPipelines, RunnersOnManyThreadsGetOnePipeline) {
  SharedPipelines pipelines;
  const std::string spec = stored_spec("echo many");
  std::vector<std::shared_ptr<const spec::Pipeline>> got(8);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&, t] {
      auto read = pipelines.read(spec, "job");
      if (read) got[t] = *read;
    });
  }
  for (auto& thread : threads) thread.join();
  // Two threads may both parse a new spec, but the one kept is the one every later reader gets.
  auto later = pipelines.read(spec, "job");
  ASSERT_TRUE(later);
  for (const auto& pipeline : got) {
    ASSERT_NE(pipeline, nullptr);
    EXPECT_EQ(*pipeline, **later);
  }
  EXPECT_EQ(pipelines.held(), 1u);
}

}  // namespace
}  // namespace skyd::daemon
