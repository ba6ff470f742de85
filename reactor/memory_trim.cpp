#include "reactor/memory_trim.hpp"

#include "reactor/blocking.hpp"
#include "reactor/log.hpp"
#include "reactor/sleep.hpp"

#include <malloc.h>

#include <chrono>
#include <functional>

namespace skyd {

Task<void> trim_memory_periodically(Duration every) {
  for (;;) {
    co_await sleep_for(every);
    const auto started = std::chrono::steady_clock::now();
    std::function<int()> trim = [] { return malloc_trim(0); };
    co_await run_blocking<int>(std::move(trim));
    // A trim holds each arena's lock while it walks it: threads that allocate wait meanwhile.
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    if (took > std::chrono::milliseconds(100))
      logger("skyd")->warn("memory trim took {} ms", took.count());
  }
}

}  // namespace skyd
