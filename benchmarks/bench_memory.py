"""What a server's memory does over many uploads.

Usage::

    python benchmarks/bench_memory.py app --uploads 40 --lines 300000     # the app, one session
    python benchmarks/bench_memory.py engine --uploads 40 --threads 2 32  # the engine alone

``app``: one AppTest session (the app in-process, as ``bench_ui.py`` drives it) uploads a different
file ``--uploads`` times (the same synthetic orders plus one line, so every upload is new to the
caches), opens the Overview after each, and prints the process's resident memory (RSS), the live
DuckDB connections and what the dataset cache keeps (``$SEGCORE_CACHE_MB``) after each upload.

``engine``: for each ``--threads`` value, a fresh process loads a different file per upload in a
new thread (as Streamlit runs each script run in a thread), keeps the newest four datasets alive
(as the app's dataset cache does) and drops the rest; RSS every ten uploads. Run it with
``MALLOC_ARENA_MAX=2`` in the environment to see what the allocator's per-thread arenas cost.

Figures on a loaded 2-core machine are noisy; compare the shapes (plateau or growth).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(HERE))

import duckdb  # noqa: E402

import segcore  # noqa: E402
from bench_ui import make_orders  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def live_connections() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, duckdb.DuckDBPyConnection))


def app(uploads: int, lines: int) -> None:
    from streamlit.testing.v1 import AppTest

    from ui.data import dataset_cache

    base = make_orders(lines).read_bytes()
    # the uploads are kept in a workspace of their own, never the user's
    os.environ.setdefault("SEGCORE_WORKSPACE", str(Path(tempfile.mkdtemp()) / "workspace.duckdb"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.run()
    print(f"start: {rss_mb():.0f} MB")
    for i in range(uploads):
        if at.segmented_control(key="w_source").value != "upload":
            at.segmented_control(key="w_source").set_value("upload")
            at.run()
        content = base + f"SOX{i},2024-12-31,CX{i},Product 1,Category 1,1.00,Region 1,Channel 1\n".encode()
        at.file_uploader(key="w_upload_orders").set_value((f"orders{i}.csv", content, "text/csv"))
        at.run()
        at.switch_page("pages/1_Overview.py")
        at.run()
        at.switch_page("app.py")
        at.run()
        if at.exception:
            raise RuntimeError([e.value for e in at.exception])
        cache = dataset_cache()
        print(f"upload {i + 1:3d}: {rss_mb():6.0f} MB, {live_connections()} DuckDB connections, dataset cache "
              f"{len(cache.keys())} datasets {cache.total() / 2**20:.0f} MB, CPU {time.process_time():.0f} s", flush=True)


def engine(uploads: int, lines: int, threads: int) -> None:
    source = make_orders(lines).read_bytes()
    folder = HERE / "data"
    kept: list[segcore.Dataset] = []

    def upload(i: int) -> None:
        path = folder / f"memory_upload_{i % 2}.csv"
        path.write_bytes(source + f"SOX{i},2024-12-31,CX{i},P,C,1.00,R,Ch\n".encode())
        con = duckdb.connect(config={"threads": threads})
        ds = segcore.load_orders(path, con=con)
        segcore.customer_metrics(ds.con.cursor())
        kept.append(ds)
        del kept[:-4]

    line = []
    for i in range(uploads):
        worker = threading.Thread(target=upload, args=(i,))
        worker.start()
        worker.join()
        if (i + 1) % 10 == 0:
            gc.collect()
            line.append(f"{i + 1}: {rss_mb():.0f} MB")
    print(f"threads {threads:3d}: " + ", ".join(line), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["app", "engine"])
    parser.add_argument("--uploads", type=int, default=40)
    parser.add_argument("--lines", type=int, default=300_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[2, 32])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # engine: one thread count, in this process
    args = parser.parse_args()
    if args.mode == "app":
        app(args.uploads, args.lines)
    elif args.one is not None:
        engine(args.uploads, args.lines, args.one)
    else:
        for threads in args.threads:  # a fresh process each: what one leaves behind must not count
            subprocess.run([sys.executable, __file__, "engine", "--uploads", str(args.uploads),
                            "--lines", str(args.lines), "--one", str(threads)], check=True)


if __name__ == "__main__":
    main()
