"""Mode collapse on the ring of 8 and the 5x5 grid: every method of ``edu_gen.modes.METHODS``
over several seeds, with the VEEGAN/PacGAN metric (2,500 samples, 3 sd).

    python scripts/mode_collapse_table.py                  # 3 seeds, 2 worker processes
    python scripts/mode_collapse_table.py --seeds 0 1 2 3 4 --workers 1
    python scripts/mode_collapse_table.py --live --seeds 10 11 12 13 14 15 16 17 18 19

Writes one row per (method, dataset, seed) to ``book/gan/mode_collapse_results.csv``, with
the command, the seeds, the date and the machine in ``#`` comment lines at the top; the
chapter *Mode collapse and how to fight it* reads and summarises that file.

``--live`` runs instead the chapter's smaller live setup
(``edu_gen.toy_experiment.live_ring_run``: the plain GAN on the ring at a constant and at a
decayed learning rate, and the decayed one sampled by rejection) and writes
``book/gan/mode_collapse_live.csv``; the chapter checks its live run against the range of
those seeds. The chapter's live run uses seed 0 (plus ``EDU_GEN_SEED_OFFSET`` in the margin
sweep: 0, 1, 2), so the committed live seeds are 10 to 19: every live run, here or on
another CPU, is then a run the table has not seen.

Every seed is shifted by ``EDU_GEN_SEED_OFFSET`` (``edu_gen.toy_experiment`` seeds through
``edu_gen.runtime``); the ``seed`` column and the ``seeds`` line hold the seeds actually
used. The ``#`` lines also record the machine, the versions and the profile.
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
LIVE_OUT = OUT.with_name("mode_collapse_live.csv")
FIELDS = ["method", "dataset", "seed", "modes", "high_quality", "seconds"]
LIVE_FIELDS = ["method", "seed", "modes", "high_quality", "snapshot_modes", "acceptance", "seconds"]


def run_one(job):
    """Train one (method, dataset, seed) on one CPU thread; return its CSV row."""
    import torch

    from edu_gen.toy_experiment import run_toy

    torch.set_num_threads(1)
    from edu_gen.toy_experiment import used_seed

    method, name, seed = job
    start = time.perf_counter()
    _, _, metric = run_toy(method, name, seed)
    seed = used_seed(seed)
    seconds = time.perf_counter() - start
    print(f"{method:12s} {name:4s} seed {seed}: {metric['modes']} modes, "
          f"{100 * metric['high_quality']:.1f} % high quality, {seconds:.0f} s", flush=True)
    return {"method": method, "dataset": name, "seed": seed, "modes": metric["modes"],
            "high_quality": round(metric["high_quality"], 4), "seconds": round(seconds, 1)}


def run_table(job):
    """``run_one`` as a list of rows, as ``run_live`` returns them."""
    return [run_one(job)]


def run_live(job):
    """One live run of the chapter (``live_ring_run``) on one CPU thread: its CSV rows (for
    the decayed learning rate also the row of its samples kept by rejection)."""
    import torch

    from edu_gen.data import mixture_modes
    from edu_gen.modes import N_SAMPLES, mode_metric
    from edu_gen.rejection import rejection_sample
    from edu_gen.toy_experiment import live_ring_run, used_seed

    torch.set_num_threads(1)
    lr_decay, seed = job
    start = time.perf_counter()
    snaps, metric, g, d = live_ring_run(lr_decay, seed)
    seconds = time.perf_counter() - start
    seed = used_seed(seed)
    centers, sd = mixture_modes("ring")
    counts = " ".join(str(mode_metric(x, centers, sd)["modes"]) for _, x in snaps.samples)
    name = "decayed lr" if lr_decay else "constant lr"
    rows = [{"method": name, "seed": seed, "modes": metric["modes"],
             "high_quality": round(metric["high_quality"], 4), "snapshot_modes": counts,
             "acceptance": "", "seconds": round(seconds, 1)}]
    if lr_decay:
        samples, acceptance = rejection_sample(g, d, N_SAMPLES, seed=seed)
        drs = mode_metric(samples, centers, sd)
        rows.append({"method": "decayed lr + DRS", "seed": seed, "modes": drs["modes"],
                     "high_quality": round(drs["high_quality"], 4), "snapshot_modes": "",
                     "acceptance": round(acceptance, 4), "seconds": ""})
    for row in rows:
        print(f"live {row['method']:16s} seed {seed}: {row['modes']} modes, "
              f"{100 * row['high_quality']:.1f} % high quality", flush=True)
    return rows


def cpu_name():
    """The CPU's model name (``/proc/cpuinfo``), or what ``platform`` knows."""
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main():
    import numpy
    import torch

    from edu_gen.runtime import SEED_OFFSET_ENV, seed_offset
    from edu_gen.toy_experiment import (METHODS, TOY_BATCH, TOY_D_HIDDEN, TOY_DATASET,
                                        TOY_EPOCHS, TOY_G_HIDDEN)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--live", action="store_true",
                        help="the chapter's live setup instead of the table's")
    args = parser.parse_args()
    if args.out is None:
        args.out = LIVE_OUT if args.live else OUT
    # seed by seed, so that an interrupted run has every method on the first seeds
    if args.live:
        from edu_gen.toy_experiment import (LIVE_BATCH, LIVE_EPOCHS, LIVE_HIDDEN, LIVE_LR,
                                            LIVE_POINTS)
        jobs = [(decay, s) for s in args.seeds for decay in (False, True)]
        fields, work = LIVE_FIELDS, run_live
        setup = (f"the chapter's live runs: {LIVE_EPOCHS} epochs of {LIVE_POINTS} ring points, "
                 f"batch {LIVE_BATCH}, MLPs of 3 hidden layers of {LIVE_HIDDEN} units, Adam lr "
                 f"{LIVE_LR:g}, constant or decayed linearly to 0; metric on 2,500 samples "
                 "(decayed lr + DRS: 2,500 samples kept by rejection); snapshot_modes: the "
                 "modes covered by 1,000 fixed-noise samples at each of the 5 snapshots")
    else:
        jobs = [(m, name, s) for s in args.seeds for name in ("ring", "grid") for m in args.methods]
        fields, work = FIELDS, run_table
        setup = (f"{TOY_EPOCHS} epochs of {TOY_DATASET} samples, batch "
                 f"{TOY_BATCH}, MLPs of 3 hidden layers (generator {TOY_G_HIDDEN} units, discriminator "
                 f"{TOY_D_HIDDEN}), learning rates decayed linearly to 0 but the baseline's; "
                 "metric on 2,500 samples (GAN + DRS: 2,500 samples kept by rejection)")
    start = time.perf_counter()
    offset = seed_offset()
    shifted = f" ({SEED_OFFSET_ENV}={offset} added to --seeds)" if offset else ""
    header = [
        f"command: python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip(),
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC (start)",
        f"seeds: {' '.join(str(s + offset) for s in args.seeds)}{shifted}",
        f"setup: {setup}",
        "profile: none: the sizes are edu_gen.toy_experiment's constants, the same in the "
        "chapter's quick and full profiles",
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}",
        f"machine: {platform.machine()}, {cpu_name()}, {args.workers} worker "
        f"processes of 1 thread on a {os.cpu_count()}-core CPU",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows, done = [], 0
    # each row is written (and flushed) as soon as its job ends: an interrupted run keeps
    # what it finished
    with open(args.out, "w", newline="") as f, \
            multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        f.flush()
        for job_rows in pool.imap_unordered(work, jobs, chunksize=1):
            writer.writerows(job_rows)
            f.flush()
            rows.extend(job_rows)
            done += 1
        total = time.perf_counter() - start
        f.write(f"# finished: {done} of {len(jobs)} jobs in {total:.0f} s\n")
    print(f"wrote {len(rows)} rows to {args.out} in {total:.0f} s")


if __name__ == "__main__":
    main()
