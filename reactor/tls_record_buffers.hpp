#pragma once
// OpenSSL's record buffers, kept for reuse by each thread. With SSL_MODE_RELEASE_BUFFERS a TLS
// connection holds no record buffer between records, which is what lets ten thousand idle long
// polls cost ~10 KiB each; but then every record read or written allocates a buffer of ~17 KiB and
// frees it again, a size glibc serves from its large bins (searched, split and merged each time):
// a fifth of a busy TLS server's CPU at ten thousand nodes. Allocations of a record buffer's size
// are served instead from a few blocks each thread keeps, so a connection still holds nothing
// while it waits.

#include <cstddef>

namespace skyd::http {

// Routes OpenSSL's allocations through the shelves. Call it first in main: OpenSSL refuses once it
// has allocated anything. False when it refused (OpenSSL then uses malloc as before).
bool keep_tls_record_buffers();
// Whether keep_tls_record_buffers() was called and OpenSSL took the shelves.
bool tls_record_buffers_kept();

// The shelf of the calling thread, as OpenSSL's allocations use it.
namespace record_buffers {
inline constexpr std::size_t kBlockBytes = 20 * 1024;  // above OpenSSL 3's largest record buffer
inline constexpr std::size_t kSmallestServed = 8 * 1024;
inline constexpr int kKeptPerThread = 32;

// A block for an allocation of `bytes`, kept or new; null when `bytes` is not a record buffer's
// size (the caller allocates as usual).
void* take(std::size_t bytes);
// Keeps a freed allocation that is a block, when the shelf has room; false when it did not (the
// caller frees it).
bool give_back(void* allocation);
// How many blocks the calling thread keeps.
int kept();
}  // namespace record_buffers

}  // namespace skyd::http
