#include "daemon/controller/bucket_keeper.hpp"

#include "providers/provider.hpp"
#include "providers/storage/bucket_names.hpp"
#include "providers/storage/upload_tree.hpp"
#include "reactor/blocking.hpp"
#include "reactor/crypto.hpp"
#include "reactor/log.hpp"
#include "store/store_errc.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <functional>

namespace skyd::daemon {
namespace fs = std::filesystem;
using providers::ProviderErrc;
using store::BucketRecord;
using store::BucketState;

namespace {

std::string entry(const spec::FileMount& mount) {
  return "file_mounts." + mount.destination;
}

skylet::MountMode node_mode(spec::MountMode mode) {
  switch (mode) {
    case spec::MountMode::kMount:
      return skylet::MountMode::kMount;
    case spec::MountMode::kMountCached:
      return skylet::MountMode::kMountCached;
    case spec::MountMode::kCopy:
      return skylet::MountMode::kCopy;
  }
  return skylet::MountMode::kCopy;
}

// What a tree holds, as one digest: every regular file's relative path, size and content, in
// path order. Equal digests: the bucket already holds this upload.
std::string tree_digest(const std::string& directory) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  std::string listing;
  for (const auto& file : files) {
    listing += fs::relative(file, directory, ec).generic_string();
    listing += '\0';
    listing += std::to_string(fs::file_size(file, ec));
    listing += '\0';
    listing += sha256_file_hex(file.string());
    listing += '\n';
  }
  return sha256_hex(listing);
}

Error invalid(std::string detail) {
  return providers::make_error(ProviderErrc::kInvalid, detail);
}

}  // namespace

bool BucketStores::reaches(std::string_view store) const {
  return std::find(reachable.begin(), reachable.end(), store) != reachable.end();
}

std::string store_of(const spec::FileMount& mount, std::string_view default_store) {
  if (mount.store) {
    switch (*mount.store) {
      case spec::StoreType::kS3:
        return "s3";
      case spec::StoreType::kGcs:
        return "gcs";
      case spec::StoreType::kAzure:
      case spec::StoreType::kR2:
      case spec::StoreType::kIbm:
      case spec::StoreType::kOci:
        break;
    }
    // Another store: named for the refusal ("azure").
    std::string name(spec::to_string(*mount.store));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
  if (!mount.sources.empty() && !spec::uploaded_source(mount)) {
    if (const auto parsed = providers::storage::parse_bucket_url(mount.sources.front()); parsed.url)
      return parsed.url->store;
  }
  return std::string(default_store);
}

namespace {

std::string title_of(std::string_view store) {
  if (store == "s3") return "S3";
  if (store == "gcs") return "GCS";
  std::string title(store);
  for (char& c : title) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return title;
}

// "an S3 bucket", "a GCS bucket".
std::string a_bucket_of(std::string_view store) {
  return (store == "s3" ? "an " : "a ") + title_of(store) + " bucket";
}

// What this skyd reaches, and what the missing store would need: a true reason, not a guess.
std::string not_available(std::string_view store, const BucketStores& stores) {
  std::string reached;
  for (const auto& name : stores.reachable) {
    if (!reached.empty()) reached += " and ";
    reached +=
        title_of(name) + (name == "gcs" ? " (store: gcs, gs://...)" : " (store: s3, s3://...)");
  }
  std::string out = "this skyd keeps buckets in " + (reached.empty() ? "no cloud store" : reached);
  if (store == "gcs") {
    out +=
        "; GCS needs Google Cloud configured for skyd (gcp_enabled with gcp_project at "
        "Google's own Compute Engine, gcs_endpoint, or bucket_store: gcs)";
  } else if (store == "s3") {
    out += "; S3 needs bucket_store: s3, s3_endpoint, or aws_enabled at AWS's own endpoint";
  }
  return out;
}

}  // namespace

std::string storage_problem(const spec::Pipeline& pipeline, const BucketStores& stores) {
  for (const auto& task : pipeline.tasks) {
    for (const auto& mount : task.file_mounts) {
      if (mount.kind == spec::FileMount::Kind::kLocalPath) continue;
      const std::string where = entry(mount) + ": ";
      const bool local_source = spec::uploaded_source(mount).has_value();
      if (mount.sources.size() > 1)
        return where + "a bucket is filled from one `source:` directory; give one";
      if (mount.kind == spec::FileMount::Kind::kStorage && mount.bucket_name &&
          !mount.sources.empty() && !local_source) {
        return where +
               "give `name:` for a bucket to make or fill, or `source: " + mount.sources.front() +
               "` for a bucket that exists, not both";
      }
      if (mount.kind == spec::FileMount::Kind::kStorage && local_source && !mount.bucket_name)
        return where + "a `source:` directory is uploaded into a bucket: give the bucket's `name:`";
      if (stores.default_store == "local") continue;  // the local provider's directories take any
      const std::string store = store_of(mount, stores.default_store);
      if (!mount.sources.empty() && !local_source) {
        const auto parsed = providers::storage::parse_bucket_url(mount.sources.front());
        if (!parsed.url) return where + parsed.problem;
        if (parsed.url->store != store) {
          return where + "store " + title_of(store) + " does not match " + mount.sources.front() +
                 ", " + a_bucket_of(parsed.url->store);
        }
        if (!stores.reaches(store)) {
          return where + mount.sources.front() + " is " + a_bucket_of(store) +
                 ", which is not available: " + not_available(store, stores);
        }
      }
      if (!stores.reaches(store)) {
        return where + "store " + title_of(store) +
               " is not available: " + not_available(store, stores);
      }
      if (mount.bucket_name) {
        if (auto problem = providers::storage::bucket_name_problem_in(store, *mount.bucket_name))
          return where + "bucket name `" + *mount.bucket_name + "` " + *problem + " (" +
                 title_of(store) + "'s bucket naming rules)";
      }
    }
  }
  return {};
}

std::string storage_problem(const spec::Pipeline& pipeline, std::string_view store) {
  BucketStores stores;
  stores.default_store = std::string(store);
  if (store != "local") stores.reachable.push_back(std::string(store));
  return storage_problem(pipeline, stores);
}

const KeptStore* BucketKeeper::find(std::string_view store) const {
  for (const auto& kept : stores_)
    if (kept.address.store == store) return &kept;
  return nullptr;
}

std::vector<std::string> BucketKeeper::stores() const {
  std::vector<std::string> names;
  for (const auto& kept : stores_) names.push_back(kept.address.store);
  return names;
}

Task<Result<std::vector<skylet::BucketMount>>> BucketKeeper::prepare(
    BucketUser user, spec::Task task, std::vector<std::string> snapshot_mounts) {
  std::vector<skylet::BucketMount> mounts;
  for (std::size_t n = 0; n < task.file_mounts.size(); ++n) {
    const spec::FileMount& mount = task.file_mounts[n];
    if (mount.kind == spec::FileMount::Kind::kLocalPath) continue;
    const bool named = mount.bucket_name.has_value();
    const std::string store = store_of(mount, default_store_);
    const KeptStore* kept = find(store);
    if (!kept) {
      co_return invalid(entry(mount) + ": store " + title_of(store) +
                        " is not available on this skyd (its configuration changed?)");
    }
    skylet::BucketMount node;
    node.destination = mount.destination;
    node.mode = node_mode(mount.mode);
    node.store = store == "gcs" ? skylet::Store::kGcs : skylet::Store::kS3;
    node.endpoint = kept->address.endpoint;
    node.region = kept->address.region;
    if (named) {
      node.bucket = *mount.bucket_name;
    } else {
      const auto parsed = providers::storage::parse_bucket_url(mount.sources.front());
      if (!parsed.url) co_return invalid(entry(mount) + ": " + parsed.problem);
      node.bucket = parsed.url->bucket;
      node.prefix = parsed.url->prefix;
      while (node.prefix.ends_with('/')) node.prefix.pop_back();
    }
    if (auto ready = co_await ensure_bucket(*kept, user, mount, node.bucket, named); !ready)
      co_return ready.error();
    if (named && spec::uploaded_source(mount)) {
      const std::string directory = n < snapshot_mounts.size() ? snapshot_mounts[n] : "";
      if (auto filled = co_await fill(*kept, mount, node.bucket, directory); !filled)
        co_return filled.error();
    }
    mounts.push_back(std::move(node));
  }
  co_return mounts;
}

Task<Result<void>> BucketKeeper::ensure_bucket(const KeptStore& kept, const BucketUser& user,
                                               const spec::FileMount& mount,
                                               const std::string& bucket, bool named) {
  const std::string store = kept.address.store;
  for (int round = 0; round < 3; ++round) {
    auto row = co_await rows_.find(store, bucket);
    if (!row) co_return row.error();
    if (*row && (*row)->state != BucketState::kDeleted) {
      const BucketRecord& known = **row;
      if (known.created_by_skyd && known.owner_uid != user.uid && user.uid != 0) {
        co_return invalid(entry(mount) + ": bucket " + bucket + " belongs to " +
                          (known.owner_name.empty() ? "uid " + std::to_string(known.owner_uid)
                                                    : known.owner_name) +
                          "; choose another name");
      }
      if (known.state == BucketState::kReady) co_return Result<void>{};
      if (known.state == BucketState::kDeleting) {
        // Its deletion was cut short: finish it, then the bucket is made anew below.
        if (auto removed = co_await remove(known); !removed) co_return removed.error();
        continue;
      }
      // kCreating: the create call may or may not have been made; it is safe to repeat.
      if (auto made = co_await kept.store->create_bucket(bucket); !made) co_return made.error();
      co_return co_await rows_.set_state(store, bucket, BucketState::kReady, "created");
    }
    auto access = co_await kept.store->head_bucket(bucket);
    if (!access) co_return access.error();
    BucketRecord record;
    record.store = store;
    record.name = bucket;
    record.region = kept.address.region;
    record.owner_uid = user.uid;
    record.owner_name = user.name;
    record.job_id = user.job;
    switch (*access) {
      case providers::storage::BucketAccess::kForbidden:
        co_return invalid(entry(mount) + ": bucket " + bucket +
                          " exists but belongs to another account (bucket names are global); "
                          "choose another name");
      case providers::storage::BucketAccess::kMine:
        record.state = BucketState::kReady;
        record.created_by_skyd = false;
        record.persistent = true;  // it was there before: never skyd's to delete
        record.detail = "existed before";
        break;
      case providers::storage::BucketAccess::kNotFound:
        if (!named) {
          co_return invalid(entry(mount) + ": bucket " + bucket + " does not exist; give `name: " +
                            bucket + "` for skyd to make it, or name a bucket that exists");
        }
        record.state = BucketState::kCreating;
        record.created_by_skyd = true;
        record.persistent = mount.persistent;
        break;
    }
    auto inserted = co_await rows_.insert(record);
    if (!inserted) {
      if (inserted.error().code == store::StoreErrc::kConflict) continue;  // another job raced
      co_return inserted.error();
    }
    if (record.state == BucketState::kReady) co_return Result<void>{};
    logger("controller")
        ->info("bucket create store={} bucket={} job={}", store, bucket, user.job.value);
    if (auto made = co_await kept.store->create_bucket(bucket); !made) co_return made.error();
    co_return co_await rows_.set_state(store, bucket, BucketState::kReady, "created");
  }
  co_return make_error(ProviderErrc::kTransient,
                       entry(mount) + ": bucket " + bucket + " keeps changing; try again");
}

Task<Result<void>> BucketKeeper::fill(const KeptStore& kept, const spec::FileMount& mount,
                                      const std::string& bucket, const std::string& directory) {
  std::function<Result<std::string>()> digest = [directory]() -> Result<std::string> {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) {
      return invalid("the `source:` of this mount is not a directory (" + directory + ")");
    }
    return tree_digest(directory);
  };
  auto content = co_await run_blocking<Result<std::string>>(std::move(digest));
  if (!content) co_return invalid(entry(mount) + ": " + content.error().detail);
  const std::string store = kept.address.store;
  auto row = co_await rows_.find(store, bucket);
  if (!row) co_return row.error();
  if (*row && (*row)->uploaded_digest == *content) co_return Result<void>{};
  auto sent = co_await providers::storage::upload_tree(*kept.store, bucket, "", directory);
  if (!sent) co_return sent.error();
  logger("controller")
      ->info("bucket filled store={} bucket={} files={} skipped={} bytes={}", store, bucket,
             sent->files_sent, sent->files_skipped, sent->bytes_sent);
  co_return co_await rows_.record_upload(
      store, bucket, *content, static_cast<std::int64_t>(sent->bytes_sent + sent->bytes_skipped));
}

Task<Result<void>> BucketKeeper::remove(const BucketRecord& bucket) {
  const KeptStore* kept = find(bucket.store);
  if (!kept) {
    co_return make_error(ProviderErrc::kInvalid, "bucket " + bucket.name + " is in store " +
                                                     bucket.store +
                                                     ", which this skyd no longer "
                                                     "reaches");
  }
  if (bucket.state != BucketState::kDeleting) {
    auto marked =
        co_await rows_.set_state(bucket.store, bucket.name, BucketState::kDeleting, "deleting");
    if (!marked) co_return marked.error();
  }
  logger("controller")->info("bucket delete store={} bucket={}", bucket.store, bucket.name);
  if (auto emptied = co_await kept->store->empty_bucket(bucket.name); !emptied) {
    if (emptied.error().code != ProviderErrc::kNotFound) co_return emptied.error();
  } else if (auto removed = co_await kept->store->delete_bucket(bucket.name);
             !removed && removed.error().code != ProviderErrc::kNotFound) {
    co_return removed.error();
  }
  co_return co_await rows_.set_state(bucket.store, bucket.name, BucketState::kDeleted, "deleted");
}

Task<std::size_t> BucketKeeper::delete_due() {
  auto due = co_await rows_.due_for_deletion();
  if (!due) {
    logger("controller")->warn("bucket sweep failed error=\"{}\"", due.error().message());
    co_return 0;
  }
  std::size_t deleted = 0;
  for (const auto& bucket : *due) {
    if (!keeps(bucket.store)) continue;
    if (auto removed = co_await remove(bucket); removed) {
      ++deleted;
    } else {
      logger("controller")
          ->warn("bucket delete failed bucket={} error=\"{}\"", bucket.name,
                 removed.error().message());
    }
  }
  co_return deleted;
}

Task<std::optional<std::uint64_t>> BucketKeeper::measure(std::string store, std::string bucket) {
  const KeptStore* kept = find(store);
  if (!kept) co_return std::nullopt;
  std::string everything;  // named: g++ 12 destroys temporaries in a co_await expression twice
  auto objects = co_await kept->store->list_objects(bucket, everything);
  if (!objects) co_return std::nullopt;
  std::uint64_t bytes = 0;
  for (const auto& object : *objects) bytes += object.size;
  co_await rows_.record_size(store, bucket, static_cast<std::int64_t>(bytes));
  co_return bytes;
}

Task<Result<std::string>> BucketKeeper::delete_bucket(BucketRecord bucket) {
  if (!bucket.created_by_skyd) {
    auto forgotten = co_await rows_.set_state(bucket.store, bucket.name, BucketState::kDeleted,
                                              "forgotten: skyd did not create it");
    if (!forgotten) co_return forgotten.error();
    co_return std::string("forgotten");
  }
  if (auto removed = co_await remove(bucket); !removed) co_return removed.error();
  co_return std::string("deleted");
}

}  // namespace skyd::daemon
