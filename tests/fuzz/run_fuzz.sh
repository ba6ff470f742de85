#!/usr/bin/env bash
# Builds tests/fuzz (clang, libFuzzer) into OUT_DIR and runs one fuzz target for SECONDS over its
# seed corpus: spec_fuzz over examples/*.yaml, api_fuzz over tests/fuzz/api_corpus. Exits 77
# (ctest: skipped) with a reason when the fuzzer cannot be built here; fails only when the fuzzer
# finds a crash (or a broken property: the targets trap on those).
#   usage: run_fuzz.sh SOURCE_DIR OUT_DIR [SECONDS] [TARGET]
set -uo pipefail
src=$1
out=$2
seconds=${3:-20}
target=${4:-spec_fuzz}
skip() {
  echo "SKIPPED: $*"
  exit 77
}
case $target in
  spec_fuzz) seeds=("$src"/examples/*.yaml) ;;
  api_fuzz) seeds=("$src"/tests/fuzz/api_corpus/*) ;;
  *)
    echo "unknown fuzz target $target" >&2
    exit 2
    ;;
esac

compiler=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$compiler" ] || skip "clang++ is not installed (the fuzzer needs clang's -fsanitize=fuzzer)"
mkdir -p "$out"
probe=$out/probe-$target
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe.cpp"
"$compiler" -fsanitize=fuzzer "$probe.cpp" -o "$probe" >/dev/null 2>&1 ||
  skip "$compiler cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
# Both targets share one configuration; configuring and building take the machine-wide build
# lock (like scripts/build.sh), so two fuzz tests started together build it once.
(
  flock 9
  if [ ! -f "$out/build.ninja" ]; then
    cmake -S "$src/tests/fuzz" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER="$compiler" \
      "${launcher[@]}" >"$out/configure.log" 2>&1 || exit 2
  fi
  cmake --build "$out" >"$out/build-$target.log" 2>&1 || exit 3
) 9>/tmp/skyd-build.lock
case $? in
  0) ;;
  2) skip "configuring the fuzz build failed (see $out/configure.log)" ;;
  *)
    # The toolchain is there (probed above): a build that fails is the project's, not a skip.
    tail -20 "$out/build-$target.log"
    echo "building the fuzzer failed (see $out/build-$target.log)" >&2
    exit 1
    ;;
esac

corpus=$out/corpus-$target
mkdir -p "$corpus"
cp "${seeds[@]}" "$corpus"/
exec "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/$target-" "$corpus"
