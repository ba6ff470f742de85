#pragma once
// Helpers every test suite shares: run a coroutine to completion, short-lived temp dirs, and
// the certificates tests make at run time.

#include "reactor/coro.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

// gtest's ASSERT_* return from the function, which a coroutine cannot: these co_return.
#define CO_ASSERT(condition)                             \
  if (!(condition)) {                                    \
    ADD_FAILURE() << "assertion failed: " << #condition; \
    co_return;                                           \
  } else                                                 \
    (void)0
#define CO_ASSERT_OK(result)                                               \
  if (!(result)) {                                                         \
    ADD_FAILURE() << #result << " failed: " << (result).error().message(); \
    co_return;                                                             \
  } else                                                                   \
    (void)0

namespace skyd::testing {

// Runs the coroutine on a private single-threaded io_context until it completes; fails the test
// (throws) when it takes longer than `limit`.
template <typename T>
T run_co(std::function<Task<T>()> make, Duration limit = std::chrono::seconds(20)) {
  asio::io_context context(1);
  auto future = asio::co_spawn(context, make(), asio::use_future);
  context.run_for(limit);
  if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("coroutine did not finish in time");
  }
  return future.get();
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A whole (small) file as text; empty when it is missing.
std::string read_text(const std::string& path);

// The value of one sample line ("name{labels} value") of a /metrics page, or -1 when absent.
double metric_sample(const std::string& exposition, const std::string& series);

// A fresh directory under /tmp with a short path (Unix socket paths must stay under 108 bytes),
// removed with everything in it when the object goes.
class TempDir {
 public:
  // Under /tmp, or under `base`.
  explicit TempDir(const std::string& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `ready` every 20 ms until it holds or `limit` passes.
inline bool wait_until(const std::function<bool()>& ready,
                       std::chrono::milliseconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

}  // namespace skyd::testing
