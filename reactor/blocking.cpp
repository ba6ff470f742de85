#include "reactor/blocking.hpp"

namespace skyd {

asio::thread_pool& blocking_pool() {
  static asio::thread_pool pool(2);
  return pool;
}

}  // namespace skyd
