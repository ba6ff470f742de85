#!/usr/bin/env bash
# Builds tests/fuzz (clang, libFuzzer) into OUT_DIR and runs the parser fuzzer for SECONDS over a
# seed corpus of examples/*.yaml. Exits 77 (ctest: skipped) with a reason when the fuzzer cannot
# be built here; fails only when the fuzzer finds a crash.
#   usage: run_fuzz.sh SOURCE_DIR OUT_DIR [SECONDS]
set -uo pipefail
src=$1
out=$2
seconds=${3:-20}
skip() {
  echo "SKIPPED: $*"
  exit 77
}

compiler=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$compiler" ] || skip "clang++ is not installed (the fuzzer needs clang's -fsanitize=fuzzer)"
mkdir -p "$out"
probe=$out/probe.cpp
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe"
"$compiler" -fsanitize=fuzzer "$probe" -o "$out/probe" >/dev/null 2>&1 ||
  skip "$compiler cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [ ! -f "$out/build.ninja" ]; then
  cmake -S "$src/tests/fuzz" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER="$compiler" \
    "${launcher[@]}" >"$out/configure.log" 2>&1 ||
    skip "configuring the fuzz build failed (see $out/configure.log)"
fi
# Builds are serialised machine-wide, like scripts/build.sh.
flock /tmp/skyd-build.lock cmake --build "$out" >"$out/build.log" 2>&1 || {
  tail -20 "$out/build.log"
  skip "building the fuzzer failed (see $out/build.log)"
}

corpus=$out/corpus
mkdir -p "$corpus"
cp "$src"/examples/*.yaml "$corpus"/
exec "$out/spec_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$out/" "$corpus"
