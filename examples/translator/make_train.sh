#!/usr/bin/env bash
# `make train`: train the toy English→Chinese translator with the defaults, then show it
# working: a few translations, a loss curve and a cross-attention heat map under BUILD/.
#   bash examples/translator/make_train.sh [BUILD]      (run from the repository root)
set -euo pipefail
BUILD=${1:-build}
CKPT="$BUILD/translator.ckpt"

echo "== training (build/train_translator with its defaults; under a minute)"
# OpenMP's waiting is train_translator's own choice unless you set OMP_WAIT_POLICY or
# GOMP_SPINCOUNT: passive, after a 40 µs spin if the machine is idle as it starts
# (examples/omp_wait.h; on a machine shared with other jobs, threads that spin while they wait
# for each other slow training down many times).
# The thread count is train_translator's own choice unless you set OMP_NUM_THREADS: it times its
# first steps on one thread and on all cores, in turn, and trains on the faster (which wins
# depends on the machine and the moment; since each batch is trained in two shards, usually two
# on the AMD EPYC Zen 5; chapter 12, "Threads" and "Shards").
# The output also goes to a log (to pick up the final JSON line); keep the live progress
# bar when the terminal is the one watching.
if [ -t 1 ]; then PROGRESS=live; else PROGRESS=lines; fi
"$BUILD/train_translator" --checkpoint "$CKPT" --loss-svg "$BUILD/loss_curve.svg" --progress "$PROGRESS" \
  | tee "$BUILD/train_translator.log"
RESULT=$(tail -n 1 "$BUILD/train_translator.log")

echo
echo "== translating with $CKPT (greedy; build/translate --help for beam search)"
TEST_SENTENCE=$(awk -F'\t' '!/^#/ { print $1; exit }' data/corpora/en_zh_test.tsv)  # held out from training
TEST_REFERENCE=$(awk -F'\t' '!/^#/ { print $2; exit }' data/corpora/en_zh_test.tsv)
show() {  # show LABEL SENTENCE [translate flags...]
  local label=$1 s=$2
  shift 2
  printf '  %-15s %-40s → %s\n' "$label" "$s" "$("$BUILD/translate" --checkpoint "$CKPT" "$@" -- "$s" | tail -n 1)"
}
show "training pair" "I love you."
show "phrase" "Thank you very much!"
show "phrase" "Long time no see!"
show "phrase" "Sorry!"
show "held-out test" "$TEST_SENTENCE"
echo "  (the reference: $TEST_REFERENCE)"
show "new sentence" "My friend will go to Beijing tomorrow."
show "beam search 4" "I love you." --beam 4

"$BUILD/translate" --checkpoint "$CKPT" --attention "$BUILD/attention_i_love_you.svg" "I love you." >/dev/null 2>&1
echo
echo "== pictures (open them in a browser)"
echo "  $BUILD/loss_curve.svg              the training loss and the learning rate, step by step"
echo "  $BUILD/attention_i_love_you.svg    which English word each Chinese character looked at"
echo
echo "Try your own sentences: $BUILD/translate --checkpoint $CKPT"
# The three numbers side by side: the test split (new sentences of the grammar) and the
# hand-written phrases a user tries first (all of them in the training data).
grep -E '^(test: |hand-written phrases: )' "$BUILD/train_translator.log" | sed 's/ (precisions.*), greedy/, greedy/'
echo "$RESULT"
