"""VAE or GAN: the floor of real digits, two VAEs and three GANs over several seeds, each
model trained for the epochs of ``edu_gen.compare.PROFILES`` and judged by ``edu_gen.metrics``.

    python scripts/compare_table.py                       # quick profile, seeds 0 1 2
    python scripts/compare_table.py --seeds 0 1 2 3 4 --profile full --device cuda

Writes one row per (model, seed) to ``book/compare/compare_results.csv``, with the command,
the date, the profile, the versions and the machine in ``#`` comment lines at the top; the
chapter *VAE or GAN? Measured side by side* reads that file and checks its live rows
against it. Runs are sequential on one CPU thread so that the seconds are comparable.
"""
import argparse
import csv
import datetime
import os
import platform
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "book" / "compare" / "compare_results.csv"


def main():
    import numpy
    import torch

    from edu_gen.compare import FIELDS, PROFILES, ROWS, load_data, run_row

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--profile", default="quick", choices=sorted(PROFILES))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    p = PROFILES[args.profile]
    header = [
        f"command: python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip(),
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC (start)",
        f"profile: {args.profile}; seeds: {' '.join(map(str, args.seeds))}; epochs: "
        + ", ".join(f"{k} {v}" for k, v in p["epochs"].items())
        + f"; batch {p['vae_batch']} (VAEs), {p['gan_batch']} (GANs); {p['n_samples']} samples "
        f"against {p['n_samples']} held-out digits; IWAE k = {p['iwae_k']} on "
        f"{p['iwae_digits']} held-out digits",
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}",
        f"machine: {platform.processor() or platform.machine()}, device {args.device}, "
        f"{args.threads} torch thread(s) on a {os.cpu_count()}-core CPU, shared with other jobs",
    ]
    data = load_data(args.profile, args.device)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start, done = time.perf_counter(), 0
    with open(args.out, "w", newline="") as f:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        f.flush()
        for seed in args.seeds:     # seed by seed: an interrupted run has every model on the first seeds
            for name in ROWS:
                row, _, _ = run_row(name, seed, args.profile, args.device, data)
                row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                writer.writerow(row)
                f.flush()
                done += 1
                print(f"{name:12s} seed {seed}: FD {row['fd']:.1f}, precision {row['precision']:.3f}, "
                      f"recall {row['recall']:.3f}, NLL {row['nll']}, {row['seconds']} s", flush=True)
        f.write(f"# finished: {done} rows in {time.perf_counter() - start:.0f} s\n")
    print(f"wrote {done} rows to {args.out}")


if __name__ == "__main__":
    main()
