#pragma once
// Runs `count` pieces of work (parts of a file, files of a tree) with at most `in_flight` at a
// time on the caller's shard; after the first error no new piece starts, the running ones finish,
// and that error is returned. The caller's cancellation cancels every piece.

#include "reactor/coro.hpp"
#include "reactor/error.hpp"

#include <cstddef>
#include <functional>

namespace skyd::providers::storage {

using PieceWork = std::function<Task<Result<void>>(std::size_t index)>;

Task<Result<void>> run_parallel(std::size_t count, int in_flight, PieceWork work);

}  // namespace skyd::providers::storage
