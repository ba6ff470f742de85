#include "reactor/tls_record_buffers.hpp"

#include <openssl/crypto.h>

#include <malloc.h>

#include <cstdlib>

namespace skyd::http::record_buffers {
namespace {

// Trivially destructible, so usable until the thread's very end (OpenSSL frees at exit too).
struct Shelf {
  void* blocks[kKeptPerThread];
  int count;
  bool closed;  // the thread is ending: nothing more is kept
};
thread_local Shelf shelf{};

// Frees the blocks when the thread ends.
struct ClearShelfAtExit {
  ~ClearShelfAtExit() {
    shelf.closed = true;
    while (shelf.count > 0) std::free(shelf.blocks[--shelf.count]);
  }
};
thread_local ClearShelfAtExit clear_at_exit;

void* allocate(std::size_t bytes, const char*, int) {
  if (void* block = take(bytes)) return block;
  return std::malloc(bytes);
}

void* reallocate(void* allocation, std::size_t bytes, const char*, int) {
  return std::realloc(allocation, bytes);
}

void release(void* allocation, const char*, int) {
  if (!give_back(allocation)) std::free(allocation);
}

}  // namespace

void* take(std::size_t bytes) {
  if (bytes < kSmallestServed || bytes > kBlockBytes) return nullptr;
  if (shelf.count > 0) return shelf.blocks[--shelf.count];
  return std::malloc(kBlockBytes);
}

bool give_back(void* allocation) {
  if (!allocation || shelf.closed || shelf.count == kKeptPerThread) return false;
  // Whatever malloc made with room for a block serves as one, however it was asked for.
  const std::size_t usable = malloc_usable_size(allocation);
  if (usable < kBlockBytes || usable > kBlockBytes + 1024) return false;
  static_cast<void>(&clear_at_exit);  // first use in this thread: frees the shelf at its end
  shelf.blocks[shelf.count++] = allocation;
  return true;
}

int kept() {
  return shelf.count;
}

}  // namespace skyd::http::record_buffers

namespace skyd::http {

namespace {
bool shelves_taken = false;
}

bool keep_tls_record_buffers() {
  shelves_taken = CRYPTO_set_mem_functions(record_buffers::allocate, record_buffers::reallocate,
                                           record_buffers::release) == 1;
  return shelves_taken;
}

bool tls_record_buffers_kept() {
  return shelves_taken;
}

}  // namespace skyd::http
