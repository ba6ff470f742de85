#include "providers/storage/parallel.hpp"

#include "reactor/task_group.hpp"

#include <algorithm>
#include <memory>
#include <optional>

namespace skyd::providers::storage {
namespace {

struct Pieces {
  std::size_t count = 0;
  std::size_t next = 0;
  PieceWork work;
  std::optional<Error> failure;
};

Task<void> worker(std::shared_ptr<Pieces> pieces) {
  while (!pieces->failure && pieces->next < pieces->count) {
    const std::size_t index = pieces->next++;
    auto done = co_await pieces->work(index);
    if (!done && !pieces->failure) pieces->failure = done.error();
  }
}

}  // namespace

Task<Result<void>> run_parallel(std::size_t count, int in_flight, PieceWork work) {
  auto pieces = std::make_shared<Pieces>();
  pieces->count = count;
  pieces->work = std::move(work);
  const std::size_t workers =
      std::min<std::size_t>(count, static_cast<std::size_t>(std::max(1, in_flight)));
  std::function<Task<void>(TaskGroup&)> start = [pieces, workers](TaskGroup& group) {
    for (std::size_t i = 0; i < workers; ++i) group.spawn(worker(pieces));
    return group.wait();
  };
  co_await TaskGroup::scoped("storage-pieces", std::move(start));
  if (pieces->failure) co_return *pieces->failure;
  co_return Result<void>{};
}

}  // namespace skyd::providers::storage
