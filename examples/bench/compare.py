#!/usr/bin/python3
"""qkv against the PyTorch reference, side by side (chapter 14, issue 13's table).

Runs build/bench_train (1 and 2 threads) and torch_bench.py (1 intra-op thread with OpenBLAS on
1 and on 2 threads; --torch-2t adds 2 intra-op threads, never the best in chapter 14's runs) for
each model size, interleaved: every round runs
every variant once, in order, so drift in the machine's speed hits all of them alike. Prints
the medians over the rounds, PyTorch's best setting, the ratio PyTorch best / qkv best, qkv's
2T/1T and both peak RSS. With --alternate, each round also runs qkv with
--alternate-threads (1 and 2 threads in alternating steps of one run, twice the steps) and the
report adds that 2T/1T: steps milliseconds apart share the machine's state, where separate
runs do not. That run also probes the machine before each step (--probe-cores, in builds from
chapter 14's eleventh round on), and the report adds the 2T/1T over the pairs of steps that had
two cores. Each round also asks bench_kernels --cores (next to --qkv) how much of a second core
the machine gives at that time (its FMA loop's 2T/1T): a bound on any program's 2T/1T then, and
the report prints its median beside qkv's (--no-cores to skip).

  /usr/bin/python3 examples/bench/compare.py [--rounds 3] [--sizes tiny,small,base] [--qkv build/bench_train]
  /usr/bin/python3 examples/bench/compare.py --qkv build/bench_train --qkv-b other/bench_train  # A/B

qkv trains each batch in two shards, one thread each (--shards, chapter 14's fourteenth round),
as train_translator does; --shards 1 times the older way, every op split among the threads.

PyTorch runs once with OpenBLAS's own core choice and once for each core type in --torch-cores,
with the environments of bench_common.py; its best setting is the one compared. Nothing in qkv
imports this or torch_bench.py.
"""
import argparse, os, statistics, sys

from bench_common import TORCH_1T, add_common_args, add_torch_cores_arg, run_qkv, run_torch, torch_variants

SIZES = {  # name: (bench flags, steps, warmup)
    "tiny": ("--d-model 64 --heads 4 --d-ff 256 --layers 2 --batch 64 --src-len 10 --tgt-len 10 "
             "--src-vocab 100 --tgt-vocab 100", 30, 3),
    "small": ("--d-model 128 --heads 8 --d-ff 512 --layers 3 --batch 32 --src-len 20 --tgt-len 20 "
              "--src-vocab 1000 --tgt-vocab 1000", 20, 3),
    "base": ("--d-model 512 --heads 8 --d-ff 2048 --layers 6 --batch 16 --src-len 32 --tgt-len 32 "
             "--src-vocab 8000 --tgt-vocab 8000", 2, 1),
}


def parse_args():
    p = argparse.ArgumentParser()
    add_common_args(p)
    p.add_argument("--qkv-b", default="", help="a second qkv build to compare (A/B), no PyTorch")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--torch-2t", action="store_true", help="also PyTorch with 2 intra-op threads")
    p.add_argument("--no-cores", action="store_true",
                   help="skip bench_kernels --cores (the machine's own 2T/1T) in each round")
    p.add_argument("--shards", default="2",
                   help="qkv trains each batch in N shards, one thread each (bench_train --shards, "
                        "chapter 14's fourteenth round): N for every size, or per size as "
                        "tiny=2,small=2,base=1 (default 2, as train_translator; 1: every op split "
                        "among the threads instead)")
    p.add_argument("--alternate", action="store_true",
                   help="also qkv's 2T/1T from one run of alternating steps (bench_train --alternate-threads)")
    add_torch_cores_arg(p)
    return p.parse_args()


def shards_of(spec, sizes):
    """{size: shard count} from "N" or "tiny=2,small=2" (sizes not named: 1)."""
    if "=" not in spec:
        return {s: int(spec) for s in sizes}
    out = {s: 1 for s in sizes}
    for part in spec.split(","):
        name, n = part.split("=")
        if name not in SIZES:
            sys.exit(f"compare.py: --shards names {name!r}, not one of {', '.join(SIZES)}")
        out[name] = int(n)
    return out


def variants_of(a):
    """(label, qkv executable or PyTorch's core type, flags) for each variant, in running order."""
    variants = [("qkv 1T", a.qkv, ["--threads", "1"]), ("qkv 2T", a.qkv, ["--threads", "2"])]
    if a.alternate:
        variants.append(("qkv 1T|2T", a.qkv, ["--threads", "2", "--alternate-threads", "--probe-cores"]))
    if a.qkv_b:
        variants += [("B 1T", a.qkv_b, ["--threads", "1"]), ("B 2T", a.qkv_b, ["--threads", "2"])]
    elif not a.no_torch:
        settings = TORCH_1T + ([("2/2", ["--threads", "2", "--blas-threads", "2"])] if a.torch_2t else [])
        variants += torch_variants(a.torch_cores, settings)
    return variants


def measure(a, sizes, variants):
    """Step times (ms) per (size, label) over the interleaved rounds, the peak RSS of each, and
    the machine's own 2T/1T of each round (bench_kernels --cores; empty with --no-cores)."""
    res = {(s, v[0]): [] for s in sizes for v in variants}
    two_cores = {s: [] for s in sizes}  # alternating runs: 2T/1T over the pairs with two cores
    # ... and over those of them whose cores were near each other, or far (bench_train's
    # round_trip_us probe: the two states of chapter 14's thirteenth round)
    near_far = {(s, k): [] for s in sizes for k in ("near", "far")}
    cores = []
    rss = {}
    kernels = os.path.join(os.path.dirname(a.qkv) or ".", "bench_kernels")
    shards = shards_of(a.shards, sizes)
    for r in range(a.rounds):
        if not a.no_cores:
            j = run_qkv(kernels, ["--cores"])
            cores.append(j["two_core_ratio"])
            trip = f", a cache line's round trip {j['round_trip_us']} µs" if "round_trip_us" in j else ""
            print(f"round {r + 1} machine: FMA loop 2T/1T {j['two_core_ratio']}{trip}", file=sys.stderr,
                  flush=True)
        for s in sizes:
            flags, steps, warmup = SIZES[s]
            common = flags.split() + ["--steps", str(steps), "--warmup", str(warmup)]
            qkv_only = ["--shards", str(shards[s])] if shards[s] > 1 else []
            for label, exe, extra in variants:
                if label == "qkv 1T|2T":  # half the steps on each thread count; both warmed up
                    alt = flags.split() + ["--steps", str(2 * steps), "--warmup", str(max(2, warmup))]
                    alt += qkv_only
                    j = run_qkv(exe, alt + extra)
                    res[(s, label)].append(j["speedup"])
                    # the same over the pairs of steps whose probes saw two cores (none: no figure)
                    if "speedup_two_cores" in j:
                        two_cores[s].append(j["speedup_two_cores"])
                    for k in ("near", "far"):
                        if f"speedup_{k}" in j:
                            near_far[(s, k)].append(j[f"speedup_{k}"])
                    split = (f"; cores {j['round_trip_us']} µs apart, {j['pairs_near']} pairs near: "
                             f"{j.get('speedup_near', '-')}, {j['pairs_far']} far: {j.get('speedup_far', '-')}"
                             if "round_trip_us" in j else "")
                    print(f"round {r + 1} {s} {label}: {j['step_ms_median_1']} / {j['step_ms_median_n']} ms, "
                          f"2T/1T {j['speedup']}; {j['pairs_two_cores']} pairs with two cores "
                          f"(FMA 2T/1T {j['fma_two_core_ratio']}): {j.get('speedup_two_cores', '-')}{split}",
                          file=sys.stderr, flush=True)
                    continue
                j = (run_torch(common + extra, exe) if label.startswith("torch")
                     else run_qkv(exe, common + qkv_only + extra))
                res[(s, label)].append(j["step_ms_median"])
                core = f" [{j['openblas_core']}]" if "openblas_core" in j else ""
                print(f"round {r + 1} {s} {label}{core}: {j['step_ms_median']} ms, {j['peak_rss_mb']} MB",
                      file=sys.stderr, flush=True)
                rss[(s, label)] = max(rss.get((s, label), 0), j["peak_rss_mb"])
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    return res, rss, cores, two_cores, near_far


def report(a, sizes, labels, med, rss, res_alt=None, cores=(), two_cores=None, near_far=None):
    alt = "qkv 1T|2T" in labels
    labels = [l for l in labels if l != "qkv 1T|2T"]
    print("step ms, median of %d interleaved rounds" % a.rounds
          + ("; qkv in shards: " + a.shards if a.shards != "1" else ""))
    print("%-6s " % "size" + " ".join("%15s" % l for l in labels))
    for s in sizes:
        print("%-6s " % s + " ".join("%15.1f" % med[(s, l)] for l in labels))
    print()
    if cores:
        print(f"machine: FMA loop 2T/1T {statistics.median(cores):.2f} "
              f"(rounds: {', '.join('%.2f' % x for x in cores)}): how much of a second "
              f"core the host gave")
        print()
    if alt:
        for s in sizes:
            two = two_cores[s]
            print(f"{s}: 2T/1T in one run of alternating steps {med[(s, 'qkv 1T|2T')]:.2f} "
                  f"(rounds: {', '.join('%.2f' % x for x in res_alt[s])}); over the pairs of steps "
                  f"that had two cores: "
                  + (f"{statistics.median(two):.2f} ({len(two)} of {len(res_alt[s])} rounds had "
                     f"such pairs: {', '.join('%.2f' % x for x in two)})" if two else "none"))
            for k in ("near", "far"):
                v = (near_far or {}).get((s, k), [])
                if v:
                    print(f"  of those, the cores {k}{' from' if k == 'far' else ''} each other: "
                          f"{statistics.median(v):.2f} ({len(v)} rounds: {', '.join('%.2f' % x for x in v)})")
        print()
    if a.qkv_b:
        for s in sizes:
            for t in ("1T", "2T"):
                print(f"{s} {t}: B / A = {med[(s, 'B ' + t)] / med[(s, 'qkv ' + t)]:.3f}")
        return
    if a.no_torch:
        for s in sizes:
            print(f"{s}: 2T/1T {med[(s, 'qkv 1T')] / med[(s, 'qkv 2T')]:.2f}")
        return
    print("| config | PyTorch best | qkv 1 thread | qkv 2 threads | ratio | 2T/1T | peak RSS qkv / PyTorch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in sizes:
        tl = min((l for l in labels if l.startswith("torch")), key=lambda l: med[(s, l)])
        q1, q2, tb = med[(s, "qkv 1T")], med[(s, "qkv 2T")], med[(s, tl)]
        ql = "qkv 1T" if q1 <= q2 else "qkv 2T"
        print(f"| {s} | {tb:.1f} ms ({tl[6:]}) | {q1:.1f} | {q2:.1f} | {tb / min(q1, q2):.2f}× | {q1 / q2:.2f} "
              f"| {rss[(s, ql)]:.0f} / {rss[(s, tl)]:.0f} MB |")


def main():
    a = parse_args()
    variants = variants_of(a)
    sizes = a.sizes.split(",")
    res, rss, cores, two_cores, near_far = measure(a, sizes, variants)
    med = {k: statistics.median(v) for k, v in res.items()}
    res_alt = {s: res.get((s, "qkv 1T|2T"), []) for s in sizes}
    report(a, sizes, [v[0] for v in variants], med, rss, res_alt, cores, two_cores, near_far)


if __name__ == "__main__":
    main()
