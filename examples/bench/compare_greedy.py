#!/usr/bin/python3
"""Greedy decoding, qkv against the PyTorch reference, side by side (chapters 13 and 14, issue 13).

Runs `build/bench_train --mode greedy` (key/value cache on 1 and 2 threads, and without the
cache on 1 thread) and `torch_bench.py --mode greedy` (1 intra-op thread, OpenBLAS on 1 and on 2
threads, OpenBLAS's own core choice and each of --torch-cores) for each model size,
interleaved: every round runs every variant once, in order, so drift in the machine's speed
hits all of them alike. Each run decodes the same number of random sources to the same
number of tokens (no early stop), all in one batch and then one sentence at a time, and
reports ms per sentence for both. Prints the medians over the rounds, PyTorch's best setting,
the ratios PyTorch best / qkv best and the key/value cache's speed-up (no cache / cache, 1
thread).

PyTorch's greedy loop is the one a PyTorch user writes over nn.Transformer (as in the
Annotated Transformer): nn.TransformerDecoder has no key/value cache, so each new token re-runs
the decoder over the whole prefix. qkv without the cache (--no-kv-cache) does the same work.

  /usr/bin/python3 examples/bench/compare_greedy.py [--rounds 3] [--sizes tiny,small,base]

PyTorch and qkv run with the environments of bench_common.py (OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed for PyTorch, OpenMP waiting for qkv as its apps choose it). Nothing
in qkv imports this.
"""
import argparse, statistics, sys

from bench_common import TORCH_1T, add_common_args, add_torch_cores_arg, run_qkv, run_torch, torch_variants

SIZES = {  # name: (model flags, sources, tokens out per source, timed repeats)
    "tiny": ("--d-model 64 --heads 4 --d-ff 256 --layers 2 --src-len 10 "
             "--src-vocab 100 --tgt-vocab 100", 64, 10, 5),
    "small": ("--d-model 128 --heads 8 --d-ff 512 --layers 3 --src-len 20 "
              "--src-vocab 1000 --tgt-vocab 1000", 32, 20, 3),
    "base": ("--d-model 512 --heads 8 --d-ff 2048 --layers 6 --src-len 32 "
             "--src-vocab 8000 --tgt-vocab 8000", 8, 32, 2),
}
KEYS = {"batched": ("batched_ms_per_sentence", "batched"),
        "one by one": ("one_by_one_ms_per_sentence", "one_by_one")}


def parse_args():
    p = argparse.ArgumentParser()
    add_common_args(p)
    add_torch_cores_arg(p)
    return p.parse_args()


def measure(a, sizes, variants):
    """ms per sentence per (size, label, decoding) over the interleaved rounds."""
    res = {(s, v[0], k): [] for s in sizes for v in variants for k in KEYS}
    for r in range(a.rounds):
        for s in sizes:
            flags, n, out, repeats = SIZES[s]
            common = flags.split() + ["--mode", "greedy", "--sentences", str(n), "--max-out", str(out),
                                      "--repeats", str(repeats)]
            for label, core, extra in variants:
                if label.startswith("torch"):
                    j = run_torch(common + extra, core)
                else:
                    j = run_qkv(a.qkv, common + extra)
                    if not j["cache_equals_recompute"]:
                        sys.exit(f"{label} {s}: the cache and the recompute gave different tokens")
                if not j["batched_equals_one_by_one"]:
                    sys.exit(f"{label} {s}: batched and one by one gave different tokens")
                for k, (qkey, tkey) in KEYS.items():
                    res[(s, label, k)].append(j[tkey]["ms_per_sentence"] if tkey in j else j[qkey])
                core_name = f" [{j['openblas_core']}]" if "openblas_core" in j else ""
                print(f"round {r + 1} {s} {label}{core_name}: "
                      + ", ".join(f"{k} {res[(s, label, k)][-1]} ms/sentence" for k in KEYS),
                      file=sys.stderr, flush=True)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    return res


def report(a, sizes, labels, med):
    for k in KEYS:
        print(f"greedy decoding, {k}: ms per sentence, median of {a.rounds} interleaved rounds")
        print("%-6s " % "size" + " ".join("%18s" % l for l in labels))
        for s in sizes:
            print("%-6s " % s + " ".join("%18.3f" % med[(s, l, k)] for l in labels))
        print()
    print("| config | decoding | PyTorch best, ms/sentence | qkv 1 thread | qkv 2 threads | ratio "
          "| qkv without cache (1 thread) | cache speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        flags, n, out, _ = SIZES[s]
        for k in KEYS:
            tl = min((l for l in labels if l.startswith("torch")), key=lambda l: med[(s, l, k)])
            q1, q2, q0, tb = (med[(s, "qkv 1T", k)], med[(s, "qkv 2T", k)],
                              med[(s, "qkv 1T no cache", k)], med[(s, tl, k)])
            print(f"| {s} ({n} × {out} tokens) | {k} | {tb:.3f} ({tl[6:]}) | {q1:.3f} | {q2:.3f} "
                  f"| {tb / min(q1, q2):.1f}× | {q0:.3f} | {q0 / q1:.2f}× |")


def main():
    a = parse_args()
    variants = [("qkv 1T", None, ["--threads", "1"]), ("qkv 2T", None, ["--threads", "2"]),
                ("qkv 1T no cache", None, ["--threads", "1", "--no-kv-cache"])]
    variants += torch_variants(a.torch_cores, TORCH_1T)
    sizes = a.sizes.split(",")
    res = measure(a, sizes, variants)
    med = {k: statistics.median(v) for k, v in res.items()}
    report(a, sizes, [v[0] for v in variants], med)


if __name__ == "__main__":
    main()
