#!/usr/bin/python3
"""qkv against the PyTorch reference, side by side (chapter 14, issue 13's table).

Runs build/bench_train (1 and 2 threads) and torch_bench.py (1 intra-op thread with OpenBLAS on
1 and on 2 threads; --torch-2t adds 2 intra-op threads, never the best in chapter 14's runs) for
each model size, interleaved: every round runs
every variant once, in order, so drift in the machine's speed hits all of them alike. Prints
the medians over the rounds, PyTorch's best setting, the ratio PyTorch best / qkv best, qkv's
2T/1T and both peak RSS.

  /usr/bin/python3 examples/bench/compare.py [--rounds 3] [--sizes tiny,small,base] [--qkv build/bench_train]
  /usr/bin/python3 examples/bench/compare.py --qkv build/bench_train --qkv-b other/bench_train  # A/B

PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment (some
machines force AVX2 kernels with them) and OMP_WAIT_POLICY left as it is; and, since OpenBLAS's
own CPU detection can fail inside a virtual machine (on the Intel Xeon VM of chapter 14 it picks
"Prescott", SSE3 kernels, 1.6× slower than its AVX-512 ones), once more for each core type in
--torch-cores (default SkylakeX, OpenBLAS's AVX-512 kernels): its best setting is the one compared; qkv runs with
OMP_WAIT_POLICY=passive, as its apps do. Nothing in qkv imports this or torch_bench.py.
"""
import argparse, json, os, statistics, subprocess, sys

SIZES = {  # name: (bench flags, steps, warmup)
    "tiny": ("--d-model 64 --heads 4 --d-ff 256 --layers 2 --batch 64 --src-len 10 --tgt-len 10 "
             "--src-vocab 100 --tgt-vocab 100", 30, 3),
    "small": ("--d-model 128 --heads 8 --d-ff 512 --layers 3 --batch 32 --src-len 20 --tgt-len 20 "
              "--src-vocab 1000 --tgt-vocab 1000", 20, 3),
    "base": ("--d-model 512 --heads 8 --d-ff 2048 --layers 6 --batch 16 --src-len 32 --tgt-len 32 "
             "--src-vocab 8000 --tgt-vocab 8000", 2, 1),
}
here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser()
p.add_argument("--rounds", type=int, default=3)
p.add_argument("--sizes", default="tiny,small,base")
p.add_argument("--qkv", default="build/bench_train")
p.add_argument("--qkv-b", default="", help="a second qkv build to compare (A/B), no PyTorch")
p.add_argument("--no-torch", action="store_true")
p.add_argument("--torch-2t", action="store_true", help="also PyTorch with 2 intra-op threads")
p.add_argument("--torch-cores", default="SkylakeX",
               help="OPENBLAS_CORETYPE values to try besides OpenBLAS's own choice ('' for none)")
a = p.parse_args()


def run(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


qenv = dict(os.environ, OMP_WAIT_POLICY="passive")
tenv = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
torch_py = os.path.join(here, "torch_bench.py")
variants = [("qkv 1T", a.qkv, ["--threads", "1"]), ("qkv 2T", a.qkv, ["--threads", "2"])]
if a.qkv_b:
    variants += [("B 1T", a.qkv_b, ["--threads", "1"]), ("B 2T", a.qkv_b, ["--threads", "2"])]
elif not a.no_torch:
    settings = [("1/1", ["--threads", "1", "--blas-threads", "1"]),
                ("1/2", ["--threads", "1", "--blas-threads", "2"])]
    if a.torch_2t:
        settings += [("2/2", ["--threads", "2", "--blas-threads", "2"])]
    for core in [""] + [c for c in a.torch_cores.split(",") if c]:
        variants += [("torch " + t + (" " + core if core else ""), core or None, f)
                     for t, f in settings]
sizes = a.sizes.split(",")
res = {(s, v[0]): [] for s in sizes for v in variants}
rss = {}
for r in range(a.rounds):
    for s in sizes:
        flags, steps, warmup = SIZES[s]
        common = flags.split() + ["--steps", str(steps), "--warmup", str(warmup)]
        for label, exe, extra in variants:
            if label.startswith("torch"):
                env = dict(tenv, OPENBLAS_CORETYPE=exe) if exe else tenv
                j = run(["/usr/bin/python3", torch_py] + common + extra, env)
            else:
                j = run([exe] + common + extra, qenv)
            res[(s, label)].append(j["step_ms_median"])
            core = f" [{j['openblas_core']}]" if "openblas_core" in j else ""
            print(f"round {r + 1} {s} {label}{core}: {j['step_ms_median']} ms, {j['peak_rss_mb']} MB",
                  file=sys.stderr, flush=True)
            rss[(s, label)] = max(rss.get((s, label), 0), j["peak_rss_mb"])
    print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)

med = {k: statistics.median(v) for k, v in res.items()}
labels = [v[0] for v in variants]
print("step ms, median of %d interleaved rounds" % a.rounds)
print("%-6s " % "size" + " ".join("%15s" % l for l in labels))
for s in sizes:
    print("%-6s " % s + " ".join("%15.1f" % med[(s, l)] for l in labels))
print()
if a.qkv_b:
    for s in sizes:
        for t in ("1T", "2T"):
            print(f"{s} {t}: B / A = {med[(s, 'B ' + t)] / med[(s, 'qkv ' + t)]:.3f}")
    sys.exit(0)
if a.no_torch:
    for s in sizes:
        print(f"{s}: 2T/1T {med[(s, 'qkv 1T')] / med[(s, 'qkv 2T')]:.2f}")
    sys.exit(0)
print("| config | PyTorch best | qkv 1 thread | qkv 2 threads | ratio | 2T/1T | peak RSS qkv / PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for s in sizes:
    tl = min((l for l in labels if l.startswith("torch")), key=lambda l: med[(s, l)])
    q1, q2, tb = med[(s, "qkv 1T")], med[(s, "qkv 2T")], med[(s, tl)]
    ql = "qkv 1T" if q1 <= q2 else "qkv 2T"
    print(f"| {s} | {tb:.1f} ms ({tl[6:]}) | {q1:.1f} | {q2:.1f} | {tb / min(q1, q2):.2f}× | {q1 / q2:.2f} "
          f"| {rss[(s, ql)]:.0f} / {rss[(s, tl)]:.0f} MB |")
