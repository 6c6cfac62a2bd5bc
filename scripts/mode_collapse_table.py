"""Mode collapse on the ring of 8 and the 5x5 grid: every method of ``edu_gen.modes.METHODS``
over several seeds, with the VEEGAN/PacGAN metric (2,500 samples, 3 sd).

    python scripts/mode_collapse_table.py                  # 3 seeds, 2 worker processes
    python scripts/mode_collapse_table.py --seeds 0 1 2 3 4 --workers 1

Writes one row per (method, dataset, seed) to ``book/gan/mode_collapse_results.csv``, with
the command, the seeds, the date and the machine in ``#`` comment lines at the top; the
chapter *Mode collapse and how to fight it* reads and summarises that file.
"""
import argparse
import csv
import datetime
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "book" / "gan" / "mode_collapse_results.csv"
FIELDS = ["method", "dataset", "seed", "modes", "high_quality", "seconds"]


def run_one(job):
    """Train one (method, dataset, seed) on one CPU thread; return its CSV row."""
    import torch

    from edu_gen.toy_experiment import run_toy

    torch.set_num_threads(1)
    method, name, seed = job
    start = time.perf_counter()
    _, _, metric = run_toy(method, name, seed)
    seconds = time.perf_counter() - start
    print(f"{method:12s} {name:4s} seed {seed}: {metric['modes']} modes, "
          f"{100 * metric['high_quality']:.1f} % high quality, {seconds:.0f} s", flush=True)
    return {"method": method, "dataset": name, "seed": seed, "modes": metric["modes"],
            "high_quality": round(metric["high_quality"], 4), "seconds": round(seconds, 1)}


def main():
    from edu_gen.toy_experiment import (METHODS, TOY_BATCH, TOY_D_HIDDEN, TOY_DATASET,
                                        TOY_EPOCHS, TOY_G_HIDDEN)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    # seed by seed, so that an interrupted run has every method on the first seeds
    jobs = [(m, name, s) for s in args.seeds for name in ("ring", "grid") for m in args.methods]
    start = time.perf_counter()
    header = [
        f"command: python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip(),
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC (start)",
        f"seeds: {' '.join(map(str, args.seeds))}",
        f"setup: {TOY_EPOCHS} epochs of {TOY_DATASET} samples, batch "
        f"{TOY_BATCH}, MLPs of 3 hidden layers (generator {TOY_G_HIDDEN} units, discriminator "
        f"{TOY_D_HIDDEN}), learning rates decayed linearly to 0 but the baseline's; "
        "metric on 2,500 samples (GAN + DRS: 2,500 samples kept by rejection)",
        f"machine: {platform.processor() or platform.machine()}, {args.workers} worker "
        f"processes of 1 thread on a {os.cpu_count()}-core CPU",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    # each row is written (and flushed) as soon as its job ends: an interrupted run keeps
    # what it finished
    with open(args.out, "w", newline="") as f, \
            multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        f.flush()
        for row in pool.imap_unordered(run_one, jobs, chunksize=1):
            writer.writerow(row)
            f.flush()
            rows.append(row)
        total = time.perf_counter() - start
        f.write(f"# finished: {len(rows)} of {len(jobs)} jobs in {total:.0f} s\n")
    print(f"wrote {len(rows)} rows to {args.out} in {total:.0f} s")


if __name__ == "__main__":
    main()
