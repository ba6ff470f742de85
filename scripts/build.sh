#!/usr/bin/env bash
# Configures and builds skyd into build/ (Debug, ccache and mold when present). Quiet on success.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${SKYD_BUILD_DIR:-build}

launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
linker=()
if command -v mold >/dev/null; then linker=(-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=mold); fi

if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${SKYD_BUILD_TYPE:-Debug}" \
    "${launcher[@]}" "${linker[@]}" ${SKYD_CMAKE_ARGS:-} >/dev/null
fi
# Builds are serialised machine-wide: two compilers at once would starve a 2-core machine.
flock /tmp/skyd-build.lock cmake --build "$build_dir" -j"$(nproc)" -- --quiet "$@" |
  { grep -v '^ninja: no work to do' || true; }
