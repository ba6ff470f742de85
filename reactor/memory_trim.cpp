#include "reactor/memory_trim.hpp"

#include "reactor/blocking.hpp"
#include "reactor/sleep.hpp"

#include <malloc.h>

#include <functional>

namespace skyd {

Task<void> trim_memory_periodically(Duration every) {
  for (;;) {
    co_await sleep_for(every);
    std::function<int()> trim = [] { return malloc_trim(0); };
    co_await run_blocking<int>(std::move(trim));
  }
}

}  // namespace skyd
