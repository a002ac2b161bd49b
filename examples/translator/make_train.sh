#!/usr/bin/env bash
# `make train`: train the toy English→Chinese translator with the defaults, then show it
# working: a few translations, a loss curve and a cross-attention heat map under BUILD/.
#   bash examples/translator/make_train.sh [BUILD]      (run from the repository root)
set -euo pipefail
BUILD=${1:-build}
CKPT="$BUILD/translator.ckpt"

echo "== training (build/train_translator with its defaults; under a minute)"
# Passive OpenMP waiting unless you chose otherwise: on a machine shared with other jobs,
# threads that spin while they wait for each other slow training down many times.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
# Two threads unless you chose otherwise. Measured side by side on the 2-core Intel Xeon (other
# jobs running, load average 9-12), the default recipe, 7 interleaved pairs of runs: training took
# 15.7-27.7 s on two threads (median 21.4) against 24.1-29.0 s on one (median 25.7); two threads
# won 5 of the 7 pairs, for about 12 % more CPU time; with the kernels merged later that day,
# 10.6-16.8 s on two threads against 17.9-19.4 s on one; at load average 3 a draw (12.0 and
# 12.2 s on two, 10.7 and 15.3 s on one). With earlier kernels one thread was the
# faster one at this size (chapter 12, "Threads").
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
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
