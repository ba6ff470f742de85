#pragma once
// Uploads a local directory into a bucket: every regular file under it becomes the object
// prefix + its relative path. A file whose object already carries the same content digest (its
// SHA-256 in the user metadata `skyd-sha256`, set by this helper) is skipped, so an upload that
// a restart repeats sends only what is missing or changed. Works on any ObjectStore.

#include "providers/storage/object_store.hpp"

#include <cstdint>
#include <string>

namespace skyd::providers::storage {

inline constexpr const char* kDigestMetadata = "skyd-sha256";

struct TreeUploadOptions {
  int files_in_flight = 8;  // files uploaded at once (each may itself send parts in parallel)
};

struct TreeUploadStats {
  std::uint64_t files_sent = 0;
  std::uint64_t files_skipped = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_skipped = 0;
};

// `prefix` is used as given ("data/" puts a/b.txt at data/a/b.txt; "" at the bucket's root).
// Symbolic links are followed to files; other non-regular entries are left out. Errors: the first
// failed file's (kInvalid when the directory cannot be read).
Task<Result<TreeUploadStats>> upload_tree(ObjectStore& store, std::string bucket,
                                          std::string prefix, std::string local_dir,
                                          TreeUploadOptions options = {});

}  // namespace skyd::providers::storage
