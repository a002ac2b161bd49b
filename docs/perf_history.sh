#!/bin/bash
# Chapter 14's history table: the training step at each milestone of qkv's speed-ups,
# measured side by side in one run (run from the repository root, after `make bench`).
#
# Each milestone's library is built in a temporary git worktree and linked with one and the
# same timing program (bench_train as first written, at 482c88d), so only the library
# changes. The last row is today's build/bench_train: the same step and recipe, rewritten
# since (it also profiles and decodes). Rounds are interleaved, every variant once per round, so a load that drifts
# during the run hits all variants alike; the table shows the median over the rounds.
# PyTorch joins if /usr/bin/python3 can import torch (Debian: apt-get install python3-torch).
#
#   bash docs/perf_history.sh            # 3 rounds, 1 and 2 threads (about 5 minutes)
#   ROUNDS=5 bash docs/perf_history.sh
set -euo pipefail
repo=$(pwd)
work=${TMPDIR:-/tmp}/qkv-history
rounds=${ROUNDS:-3}
milestones=(
  "1 straightforward GEMM:482c88d"
  "2 blocked, packed GEMM (ch03):174a21a"
  "3 memory (page faults, numel, masks):d73132a"
  "4 dropout in one fused pass:c107d1c"
  "5 dropout in 16 lanes, bias+ReLU fused:4eeb857"
  "6 GEMM tiles for skinny shapes:0fc17f6"
)
[ -x build/bench_train ] || { echo "perf_history.sh: run 'make bench' first (build/bench_train is missing)" >&2; exit 1; }
mkdir -p "$work"
for m in "${milestones[@]}"; do
  rev=${m##*:}
  d=$work/$rev
  [ -x "$d/bench" ] && continue
  rm -rf "$d"
  git -C "$repo" worktree prune  # a worktree left by a failed earlier run
  git -C "$repo" worktree add -q --detach "$d" "$rev"
  make -C "$d" -j2 lib >/dev/null
  git -C "$repo" show 482c88d:examples/bench_train.cpp >"$d/bench_train_482c88d.cpp"
  git -C "$repo" show 482c88d:examples/cli.h >"$d/examples/cli.h"
  ${CXX:-g++} -std=c++17 -O3 -march=native -fopenmp -I"$d" "$d/bench_train_482c88d.cpp" "$d/build/libqkv.a" -o "$d/bench"
done
torch=""
torch_bench=examples/bench/torch_bench.py
if [ -f "$torch_bench" ] && /usr/bin/python3 -c "import torch" 2>/dev/null; then
  torch=yes
else
  echo "perf_history.sh: no PyTorch row ($torch_bench or /usr/bin/python3's torch is missing)" >&2
fi

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for round in $(seq "$rounds"); do
  for threads in 1 2; do
    for m in "${milestones[@]}"; do
      name=${m%:*}
      rev=${m##*:}
      ms=$(OMP_WAIT_POLICY=passive "$work/$rev/bench" --threads "$threads" | tail -1 | sed 's/.*"step_ms_median": \([0-9.]*\).*/\1/')
      echo "$threads|$name|$ms" >>"$results"
    done
    ms=$(OMP_WAIT_POLICY=passive build/bench_train --threads "$threads" | tail -1 | sed 's/.*"step_ms_median": \([0-9.]*\).*/\1/')
    echo "$threads|7 today ($(git rev-parse --short HEAD))|$ms" >>"$results"
    if [ -n "$torch" ]; then
      ms=$(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$torch_bench" --threads "$threads" 2>/dev/null |
        sed 's/.*"step_ms_median": \([0-9.]*\).*/\1/')
      echo "$threads|PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)'), same recipe|$ms" >>"$results"
    fi
    echo "round $round/$rounds, $threads thread(s) done" >&2
  done
done
python3 - "$results" <<'EOF'
import collections, statistics, sys
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    threads, name, ms = line.rstrip("\n").split("|")
    rows.setdefault(name, {}).setdefault(threads, []).append(float(ms))
print(f"{'step of the default model (ms, median)':48} {'1 thread':>9} {'2 threads':>10}")
for name, by in rows.items():
    print(f"{name:48} {statistics.median(by['1']):9.1f} {statistics.median(by['2']):10.1f}")
EOF
echo "(worktrees kept in $work; remove with: git worktree remove --force DIR)" >&2
