#include "daemon/controller/shared_pipelines.hpp"

#include "daemon/spec/task_json.hpp"
#include "reactor/crypto.hpp"

namespace skyd::daemon {

Result<std::shared_ptr<const spec::Pipeline>> SharedPipelines::read(const std::string& spec_json,
                                                                    std::string_view source_name) {
  const std::string digest = sha256_hex(spec_json);
  {
    std::lock_guard lock(mutex_);
    const auto found = by_digest_.find(digest);
    if (found != by_digest_.end()) {
      if (auto held = found->second.lock()) return held;
    }
  }
  // Parsed outside the lock: two runners of one new spec may both parse it; one copy is kept.
  auto parsed = spec::pipeline_from_json(spec_json, source_name);
  if (!parsed) return parsed.error();
  auto pipeline = std::make_shared<const spec::Pipeline>(std::move(*parsed));
  std::lock_guard lock(mutex_);
  auto& entry = by_digest_[digest];
  if (auto held = entry.lock()) return held;
  entry = pipeline;
  if (by_digest_.size() >= sweep_at_) forget_unheld();
  return pipeline;
}

std::size_t SharedPipelines::held() {
  std::lock_guard lock(mutex_);
  forget_unheld();
  return by_digest_.size();
}

void SharedPipelines::forget_unheld() {
  std::erase_if(by_digest_, [](const auto& entry) { return entry.second.expired(); });
  // Next sweep once the map has doubled: each sweep's cost is spread over as many inserts.
  sweep_at_ = std::max<std::size_t>(64, 2 * by_digest_.size());
}

SharedPipelines& shared_pipelines() {
  static SharedPipelines pipelines;
  return pipelines;
}

}  // namespace skyd::daemon
