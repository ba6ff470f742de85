#!/bin/bash
# Rebuilds tests/corpus/skypilot from a git copy of SkyPilot's repository: every task YAML under
# examples/ and llm/ at COMMIT becomes a skeleton (scripts/corpus/skeleton.cpp) of the same path,
# and every task in a YAML code block of the docs' pages (docs/**/*.rst) one named
# docs/<page>.line<N>.yaml after the block's line.
#   scripts/corpus/regenerate.sh SKYPILOT_GIT_DIR [COMMIT]
# Files that are not task YAMLs (Kubernetes manifests, config files, workflows, Helm values) and
# doc blocks that are fragments (a key repeated to show alternatives, `...`) are listed with the
# reason on stderr and skipped. The old skeletons are replaced; refusals.txt stays.
set -euo pipefail
git_dir=${1:?usage: regenerate.sh SKYPILOT_GIT_DIR [COMMIT]}
root=$(cd "$(dirname "$0")/../.." && pwd)
commit=$(git --git-dir "$git_dir" rev-parse "${2:-HEAD}")
out="$root/tests/corpus/skypilot"

"$root/scripts/build.sh" corpus_skeleton >/dev/null
tool="${SKYD_BUILD_DIR:-$root/build}/tests/corpus_skeleton"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

find "$out" -name '*.yaml' -delete
kept=0 skipped=0
while IFS= read -r path; do
  git --git-dir "$git_dir" show "$commit:$path" >"$scratch/in.yaml"
  target="$out/$path"
  mkdir -p "$(dirname "$target")"
  if reason=$("$tool" "$scratch/in.yaml" "$target" "$path" "$commit"); then
    kept=$((kept + 1))
  else
    echo "skipped $path: $reason" >&2
    skipped=$((skipped + 1))
  fi
done < <(git --git-dir "$git_dir" ls-tree -r --name-only "$commit" -- examples llm |
  grep -E '\.ya?ml$' | grep -v '/\.github/')
while IFS= read -r page; do
  git --git-dir "$git_dir" show "$commit:$page" |
    awk -f "$root/scripts/corpus/rst_yaml_blocks.awk" >"$scratch/blocks"
  while IFS= read -r line; do
    awk -v want="### $line" '$0 ~ /^### / { on = ($0 == want); next } on' "$scratch/blocks" \
      >"$scratch/in.yaml"
    target="$out/${page%.rst}.line$line.yaml"
    mkdir -p "$(dirname "$target")"
    if reason=$("$tool" "$scratch/in.yaml" "$target" "$page (the YAML block at line $line)" \
      "$commit"); then
      kept=$((kept + 1))
    else
      echo "skipped $page:$line: $reason" >&2
      skipped=$((skipped + 1))
    fi
  done < <(sed -n 's/^### //p' "$scratch/blocks")
done < <(git --git-dir "$git_dir" ls-tree -r --name-only "$commit" -- docs | grep -E '\.rst$')
find "$out" -type d -empty -delete
echo "kept $kept task YAMLs, skipped $skipped other files and blocks (commit $commit)"
