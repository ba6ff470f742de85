#pragma once
// Parsed job specs, shared by the runners of identical ones. A batch of N copies (`--num-jobs N`,
// or a script that submits one YAML many times) is read once and kept once, not N times: reading
// a stored spec was a tenth of skyd's CPU when 10,000 jobs resumed after a restart.

#include "daemon/spec/task.hpp"
#include "reactor/error.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace skyd::daemon {

class SharedPipelines {
 public:
  // The pipeline of this stored spec (its normalized JSON), parsed or shared with a runner that
  // holds the same text. A spec that does not parse is not kept: each caller gets its error, with
  // its own source name. Safe from any thread (runners read specs off their shards).
  Result<std::shared_ptr<const spec::Pipeline>> read(const std::string& spec_json,
                                                     std::string_view source_name);

  // How many distinct specs are held by some runner (for tests).
  std::size_t held();

 private:
  void forget_unheld();

  std::mutex mutex_;
  // By the SHA-256 of the spec's text (not the text: a spec may hold 8 MiB of scripts); an entry
  // outlives its last holder, as its digest and a few hundred bytes, until the next sweep.
  std::unordered_map<std::string, std::weak_ptr<const spec::Pipeline>> by_digest_;
  std::size_t sweep_at_ = 64;
};

// The process's one instance, which every shard's runners share.
SharedPipelines& shared_pipelines();

}  // namespace skyd::daemon
