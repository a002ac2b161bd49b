#!/usr/bin/env python3
"""Rewrite the output shown under each `<!-- run: CMD -->` block of the given docs pages
with what CMD prints today (run from the repo root, after `make examples`).

The docs test (tests/test_docs.cpp) fails when a page shows output the program no longer
prints. When the change is intended (a kernel now rounds differently), run this on the
page, then READ THE DIFF: the prose around a block may quote the numbers that moved.

  python3 docs/refresh_outputs.py docs/06-from-rnn-to-attention.md

It also re-runs each `<!-- figures: CMD -->` line of the page, which redraws that chapter's
SVG figures under docs/img (tests/test_figures.cpp compares them byte for byte): look at the
redrawn figures before committing them.
"""
import re
import subprocess
import sys


def refresh(path):
    text = open(path, encoding="utf-8").read()

    def run(match):
        out = subprocess.run(match.group(1), shell=True, capture_output=True, text=True, check=True).stdout
        return match.group(0)[: match.start(2) - match.start(0)] + out + ("" if out.endswith("\n") else "\n") + "```"

    new = re.sub(r"<!-- run: (.+?) -->\n```text\n(.*?)```", run, text, flags=re.S)
    for command in re.findall(r"^<!-- figures: (.+?) -->$", text, flags=re.M):
        subprocess.run(command, shell=True, check=True)
    if new != text:
        open(path, "w", encoding="utf-8").write(new)
        print(f"{path}: refreshed")


for page in sys.argv[1:]:
    refresh(page)
