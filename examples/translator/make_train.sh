#!/usr/bin/env bash
# `make train`: train the toy English→Chinese translator with the defaults, then show it
# working: a few translations, a loss curve and a cross-attention heat map under BUILD/.
#   bash examples/translator/make_train.sh [BUILD]      (run from the repository root)
set -euo pipefail
BUILD=${1:-build}
CKPT="$BUILD/translator.ckpt"

echo "== training (build/train_translator with its defaults; about 2-3 minutes on 2 cores)"
"$BUILD/train_translator" --checkpoint "$CKPT" --loss-svg "$BUILD/loss_curve.svg" | tee "$BUILD/train_translator.log"
RESULT=$(tail -n 1 "$BUILD/train_translator.log")

echo
echo "== translating with $CKPT (greedy; build/translate --help for beam search)"
TEST_SENTENCE=$(grep -v '^#' data/corpora/en_zh_test.tsv | head -n 1 | cut -f1)
for s in "I love you." "Good morning!" "Thank you very much." "$TEST_SENTENCE" "My friend will go to Beijing tomorrow."; do
  printf '  %-42s → %s\n' "$s" "$("$BUILD/translate" --checkpoint "$CKPT" "$s" | tail -n 1)"
done
printf '  %-42s → %s\n' "I love you. (beam 4)" "$("$BUILD/translate" --checkpoint "$CKPT" --beam 4 "I love you." | tail -n 1)"

"$BUILD/translate" --checkpoint "$CKPT" --attention "$BUILD/attention_i_love_you.svg" "I love you." >/dev/null 2>&1
echo
echo "== pictures (open them in a browser)"
echo "  $BUILD/loss_curve.svg              the training loss and the learning rate, step by step"
echo "  $BUILD/attention_i_love_you.svg    which English word each Chinese character looked at"
echo
echo "Try your own sentences: $BUILD/translate --checkpoint $CKPT"
echo "$RESULT"
