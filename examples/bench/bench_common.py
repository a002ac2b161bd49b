"""What compare.py and compare_greedy.py share: their common flags, the two environments, and
running qkv and torch_bench.py once (the last line each prints is a JSON object).

qkv runs with OMP_WAIT_POLICY and GOMP_SPINCOUNT removed from its environment, so that
bench_train chooses them as its apps do (examples/omp_wait.h: passive, after a 40 µs spin when
the machine is idle as it starts). PyTorch runs with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from its environment (some machines force AVX2 kernels with them) and
OMP_WAIT_POLICY left as it is; and, since OpenBLAS's own CPU detection can fail inside a virtual
machine (on the Intel Xeon VM of chapter 14 it picks "Prescott", SSE3 kernels, 1.6× slower than
its AVX-512 ones), once more for each core type in --torch-cores (default SkylakeX, OpenBLAS's
AVX-512 kernels). Nothing in qkv imports this.
"""
import json, os, subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
TORCH_PY = os.path.join(HERE, "torch_bench.py")
QKV_ENV = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
TORCH_ENV = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
# PyTorch's thread settings, intra-op threads / OpenBLAS threads.
TORCH_1T = [("1/1", ["--threads", "1", "--blas-threads", "1"]),
            ("1/2", ["--threads", "1", "--blas-threads", "2"])]


def add_common_args(p):
    """--rounds, --sizes, --qkv (both scripts' first three flags)."""
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--sizes", default="tiny,small,base")
    p.add_argument("--qkv", default="build/bench_train")


def add_torch_cores_arg(p):
    p.add_argument("--torch-cores", default="SkylakeX",
                   help="OPENBLAS_CORETYPE values to try besides OpenBLAS's own choice ('' for none)")


def torch_variants(torch_cores, settings):
    """(label, core or None, flags) for OpenBLAS's own choice and each of --torch-cores."""
    return [("torch " + t + (" " + core if core else ""), core or None, f)
            for core in [""] + [c for c in torch_cores.split(",") if c] for t, f in settings]


def run(cmd, env):
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def run_qkv(exe, args):
    return run([exe] + args, QKV_ENV)


def run_torch(args, core):
    """torch_bench.py, with OPENBLAS_CORETYPE=core unless core is None (OpenBLAS's own choice)."""
    env = dict(TORCH_ENV, OPENBLAS_CORETYPE=core) if core else TORCH_ENV
    return run(["/usr/bin/python3", TORCH_PY] + args, env)
