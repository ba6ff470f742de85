// Upload and download throughput of skyd's S3 client (providers/storage) against a local s3rver,
// one stream against parallel parts, next to `rclone copy` of the same data on the same machine;
// ends with a check that every downloaded byte equals its source. Prints a table.
//
// usage: s3_bench [--size-mib N] [--files N] [--file-kib N] [--parallel N] [--keep DIR]

#include "providers/storage/parallel.hpp"
#include "providers/storage/s3_store.hpp"
#include "providers/storage/upload_tree.hpp"
#include "reactor/crypto.hpp"
#include "tests/support/s3_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace skyd;
using namespace skyd::providers::storage;
namespace fs = std::filesystem;

struct Settings {
  std::uint64_t size_mib = 256;
  int files = 1000;
  int file_kib = 64;
  int parallel = 8;
};

struct Row {
  std::string operation;
  std::string client;
  std::string data;
  std::string parallel;
  double seconds = 0;
  double mib = 0;
};

template <typename T>
T run(std::function<Task<T>()> make) {
  asio::io_context context(1);
  auto future = asio::co_spawn(context, make(), asio::use_future);
  context.run();
  return future.get();
}

void write_random_file(const std::string& path, std::uint64_t bytes, unsigned seed) {
  fs::create_directories(fs::path(path).parent_path());
  std::mt19937_64 random(seed);
  std::ofstream out(path, std::ios::binary);
  std::vector<std::uint64_t> block(1 << 14);
  std::uint64_t left = bytes;
  while (left > 0) {
    for (auto& word : block) word = random();
    const auto n = std::min<std::uint64_t>(left, block.size() * sizeof(std::uint64_t));
    out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
    left -= n;
  }
}

// relative path -> SHA-256 of every regular file under `root`.
std::map<std::string, std::string> digests(const std::string& root) {
  std::map<std::string, std::string> out;
  if (fs::is_regular_file(root)) {
    out[""] = sha256_file_hex(root);
    return out;
  }
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file())
      out[fs::relative(entry.path(), root).generic_string()] = sha256_file_hex(entry.path());
  return out;
}

double seconds_of(std::function<void()> work) {
  const auto start = std::chrono::steady_clock::now();
  work();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

S3StoreOptions store_options(const std::map<std::string, std::string>& env, int parallel,
                             bool ranged) {
  S3StoreOptions options;
  options.env = [env](const char* name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  options.parts_in_flight = parallel;
  options.ranged_download = ranged;
  options.request_timeout = std::chrono::minutes(5);
  options.client.max_body_bytes = 64u << 20;
  return options;
}

void check(const Result<TransferStats>& result, const char* what) {
  if (!result) throw std::runtime_error(std::string(what) + ": " + result.error().message());
}

Task<Result<void>> download_tree(S3Store& store, std::string bucket, std::string prefix,
                                 std::string into, int parallel) {
  auto objects = co_await store.list_objects(bucket, prefix);
  if (!objects) co_return objects.error();
  auto keys = std::make_shared<std::vector<std::string>>();
  for (const auto& object : *objects) keys->push_back(object.key);
  for (const auto& key : *keys)
    fs::create_directories(fs::path(into + "/" + key.substr(prefix.size())).parent_path());
  PieceWork work = [&store, bucket, prefix, into, keys](std::size_t index) -> Task<Result<void>> {
    return [](S3Store* s3, std::string bucket, std::string key,
              std::string path) -> Task<Result<void>> {
      auto got = co_await s3->download_file(std::move(bucket), std::move(key), std::move(path));
      if (!got) co_return got.error();
      co_return Result<void>{};
    }(&store, bucket, (*keys)[index], into + "/" + (*keys)[index].substr(prefix.size()));
  };
  co_return co_await run_parallel(keys->size(), parallel, std::move(work));
}

std::string rclone_config(const std::string& dir, const std::string& endpoint) {
  const std::string path = dir + "/rclone.conf";
  // Keys come from the environment (env_auth), never from this file or a command line.
  std::ofstream(path) << "[bench]\ntype = s3\nprovider = Other\nenv_auth = true\n"
                         "region = us-east-1\nendpoint = "
                      << endpoint << "\nforce_path_style = true\n";
  return path;
}

void rclone(const std::vector<std::string>& args, std::map<std::string, std::string> env,
            const std::string& config) {
  std::vector<std::string> argv = {skyd::testing::program_on_path("rclone"), "--config", config,
                                   "--s3-no-check-bucket"};
  argv.insert(argv.end(), args.begin(), args.end());
  // The server is plain HTTP on loopback; a CA bundle set for the machine's own use (rclone's
  // AWS SDK refuses AWS_CA_BUNDLE with its transport) has nothing to verify here.
  env["AWS_CA_BUNDLE"] = "";
  auto done = skyd::testing::run_command(argv, env, std::chrono::minutes(10));
  if (done.exit_code != 0) throw std::runtime_error("rclone failed: " + done.err);
}

void print(const std::vector<Row>& rows) {
  std::printf("| operation | client | data | in flight | seconds | MiB/s |\n");
  std::printf("|---|---|---|---:|---:|---:|\n");
  for (const auto& row : rows) {
    std::printf("| %s | %s | %s | %s | %.2f | %.1f |\n", row.operation.c_str(), row.client.c_str(),
                row.data.c_str(), row.parallel.c_str(), row.seconds, row.mib / row.seconds);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--size-mib")
      settings.size_mib = static_cast<std::uint64_t>(value);
    else if (flag == "--files")
      settings.files = value;
    else if (flag == "--file-kib")
      settings.file_kib = value;
    else if (flag == "--parallel")
      settings.parallel = value;
    else {
      std::cerr << "usage: s3_bench [--size-mib N] [--files N] [--file-kib N] [--parallel N]\n";
      return 2;
    }
  }
  try {
    skyd::testing::TempDir dir;
    skyd::testing::S3Server server(dir);
    const auto env = server.client_environment();
    const std::string config = rclone_config(dir.path(), server.endpoint());
    const std::string big = dir.file("source/big.bin");
    const std::string tree = dir.file("source/tree");
    write_random_file(big, settings.size_mib << 20, 1);
    fs::create_directories(dir.file("out"));
    for (int i = 0; i < settings.files; ++i) {
      write_random_file(tree + "/d" + std::to_string(i % 10) + "/f" + std::to_string(i) + ".bin",
                        static_cast<std::uint64_t>(settings.file_kib) << 10, 100 + i);
    }
    const double big_mib = static_cast<double>(settings.size_mib);
    const double tree_mib = settings.files * settings.file_kib / 1024.0;
    const std::string big_data = std::to_string(settings.size_mib) + " MiB file";
    const std::string tree_data =
        std::to_string(settings.files) + " x " + std::to_string(settings.file_kib) + " KiB files";
    const std::string n = std::to_string(settings.parallel);
    std::vector<Row> rows;
    // Which download went where, checked against the sources at the end.
    std::vector<std::pair<std::string, std::string>> copies;

    std::function<Task<Result<BucketCreation>>()> make_bucket =
        [env]() -> Task<Result<BucketCreation>> {
      S3Store store(co_await asio::this_coro::executor, store_options(env, 1, true));
      const std::string bucket = "bench";
      co_return co_await store.create_bucket(bucket);
    };
    if (auto made = run(make_bucket); !made) throw std::runtime_error(made.error().message());

    auto skyd_upload = [&](int parallel, const std::string& key) {
      std::function<Task<Result<TransferStats>>()> up = [env, parallel, big,
                                                         key]() -> Task<Result<TransferStats>> {
        S3Store store(co_await asio::this_coro::executor, store_options(env, parallel, true));
        const std::string bucket = "bench";
        const UploadOptions defaults;
        co_return co_await store.upload_file(bucket, key, big, defaults);
      };
      Result<TransferStats> result;
      const double took = seconds_of([&] { result = run(up); });
      check(result, "upload");
      return took;
    };
    auto skyd_download = [&](int parallel, bool ranged, const std::string& key,
                             const std::string& path) {
      std::function<Task<Result<TransferStats>>()> down = [env, parallel, ranged, key,
                                                           path]() -> Task<Result<TransferStats>> {
        S3Store store(co_await asio::this_coro::executor, store_options(env, parallel, ranged));
        const std::string bucket = "bench";
        co_return co_await store.download_file(bucket, key, path);
      };
      Result<TransferStats> result;
      const double took = seconds_of([&] { result = run(down); });
      check(result, "download");
      copies.emplace_back(big, path);
      return took;
    };

    rows.push_back(
        {"upload", "skyd S3Store (multipart)", big_data, "1", skyd_upload(1, "one.bin"), big_mib});
    rows.push_back({"upload", "skyd S3Store (multipart)", big_data, n,
                    skyd_upload(settings.parallel, "parallel.bin"), big_mib});
    rows.push_back({"upload", "rclone copyto", big_data, n, seconds_of([&] {
                      rclone({"copyto", big, "bench:bench/rclone.bin", "--s3-chunk-size", "8M",
                              "--s3-upload-concurrency", n},
                             env, config);
                    }),
                    big_mib});
    rows.push_back({"download", "skyd S3Store (one streamed GET)", big_data, "1",
                    skyd_download(1, false, "parallel.bin", dir.file("out/stream.bin")), big_mib});
    rows.push_back(
        {"download", "skyd S3Store (ranged GETs)", big_data, n,
         skyd_download(settings.parallel, true, "parallel.bin", dir.file("out/ranged.bin")),
         big_mib});
    rows.push_back({"download", "rclone copyto", big_data, n, seconds_of([&] {
                      rclone({"copyto", "bench:bench/rclone.bin", dir.file("out/rclone.bin"),
                              "--multi-thread-cutoff", "8M", "--multi-thread-streams", n},
                             env, config);
                    }),
                    big_mib});
    copies.emplace_back(big, dir.file("out/rclone.bin"));

    std::function<Task<Result<TreeUploadStats>>()> tree_up =
        [env, tree, &settings]() -> Task<Result<TreeUploadStats>> {
      S3Store store(co_await asio::this_coro::executor,
                    store_options(env, settings.parallel, true));
      TreeUploadOptions options;
      options.files_in_flight = settings.parallel;
      const std::string bucket = "bench";
      const std::string prefix = "tree-skyd/";
      co_return co_await upload_tree(store, bucket, prefix, tree, options);
    };
    Result<TreeUploadStats> uploaded;
    rows.push_back({"upload", "skyd upload_tree", tree_data, n,
                    seconds_of([&] { uploaded = run(tree_up); }), tree_mib});
    if (!uploaded) throw std::runtime_error("upload_tree: " + uploaded.error().message());
    Result<TreeUploadStats> again;
    rows.push_back({"upload again (unchanged)", "skyd upload_tree", tree_data, n,
                    seconds_of([&] { again = run(tree_up); }), tree_mib});
    if (!again || again->files_sent != 0)
      throw std::runtime_error("upload_tree sent unchanged files again");
    rows.push_back(
        {"upload", "rclone copy", tree_data, n, seconds_of([&] {
           rclone({"copy", tree, "bench:bench/tree-rclone", "--transfers", n, "--checkers", n}, env,
                  config);
         }),
         tree_mib});
    std::function<Task<Result<void>>()> tree_down = [env, &settings, &dir]() -> Task<Result<void>> {
      S3Store store(co_await asio::this_coro::executor,
                    store_options(env, settings.parallel, true));
      // Named: g++ 12 destroys temporaries in a co_await expression twice.
      const std::string bucket = "bench";
      const std::string prefix = "tree-skyd/";
      const std::string into = dir.file("out/tree-skyd");
      co_return co_await download_tree(store, bucket, prefix, into, settings.parallel);
    };
    Result<void> fetched;
    rows.push_back({"download", "skyd list + download_file", tree_data, n,
                    seconds_of([&] { fetched = run(tree_down); }), tree_mib});
    if (!fetched) throw std::runtime_error("tree download: " + fetched.error().message());
    copies.emplace_back(tree, dir.file("out/tree-skyd"));
    rows.push_back({"download", "rclone copy", tree_data, n, seconds_of([&] {
                      rclone({"copy", "bench:bench/tree-rclone", dir.file("out/tree-rclone"),
                              "--transfers", n, "--checkers", n},
                             env, config);
                    }),
                    tree_mib});
    copies.emplace_back(tree, dir.file("out/tree-rclone"));

    print(rows);
    int wrong = 0;
    for (const auto& [source, copy] : copies) {
      const auto expected = digests(source);
      const auto got = digests(copy);
      if (expected != got) {
        std::printf("MISMATCH: %s differs from %s\n", copy.c_str(), source.c_str());
        ++wrong;
      }
    }
    std::printf(
        "\ncorrectness: %zu downloads compared with their sources byte for byte (SHA-256): "
        "%s\n",
        copies.size(), wrong == 0 ? "all equal" : "MISMATCH");
    return wrong == 0 ? 0 : 1;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "s3_bench: %s\n", error.what());
    return 1;
  }
}
