"""What does the code mean? The multi-seed table: beta-VAE and beta-TCVAE over a sweep of
beta on the shapes of ``edu_gen.shapes``, and InfoGAN against its plain baseline on MNIST,
every row from ``edu_gen.interpretable`` (the chapter's own experiment).

    python scripts/interpretable_table.py                        # quick profile, seeds 0-4
    python scripts/interpretable_table.py --seeds 0 1 2 3 4 5 6 7 --workers 2
    python scripts/interpretable_table.py --profile full --device cuda --workers 1

Writes one row per (model, beta, seed) to ``book/compare/interpretable_results.csv``, with
the command, the date, the profile, the versions and the machine in ``#`` lines at the top;
the chapter *What does the code mean?* reads it and checks its live rows against it. Each
run uses one torch thread; ``--workers`` runs that many at once, in separate processes.
"""
import argparse
import csv
import datetime
import os
import platform
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "book" / "compare" / "interpretable_results.csv"
BETAS = {"beta-VAE": [1, 2, 4, 8, 16], "beta-TCVAE": [2, 4, 8, 16]}


def run(job, profile, device):
    """One row, in a worker process with one torch thread."""
    import torch

    from edu_gen.interpretable import GANS, infogan_row, vae_row

    torch.set_num_threads(1)
    model, beta, seed = job
    if model in GANS:
        return infogan_row(model, seed, profile, device=device)[0]
    return vae_row(model, beta, seed, profile, device=device)[0]


def main():
    import numpy
    import scipy
    import torch

    from edu_gen.interpretable import FIELDS, GANS, PROFILES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--profile", default="quick", choices=sorted(PROFILES))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    p = PROFILES[args.profile]
    jobs = [(model, beta, seed) for seed in args.seeds for model, betas in BETAS.items()
            for beta in betas] + [(model, "", seed) for seed in args.seeds for model in GANS]
    header = [
        f"command: python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip(),
        f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC (start)",
        f"profile: {args.profile}; seeds: {' '.join(map(str, args.seeds))}; shapes grid "
        f"{'x'.join(map(str, p['shape_sizes']))}, VAEs 784-400-{p['latent']} for "
        f"{p['vae_epochs']} epochs (batch {p['vae_batch']}); betas {BETAS}; DCGAN width "
        f"{p['width']} for {p['gan_epochs']} epochs (batch {p['gan_batch']}), "
        f"{p['n_generated']} generated digits judged",
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}, scipy {scipy.__version__}",
        f"machine: {platform.machine()}, device {args.device}, {args.workers} worker(s) of one "
        f"torch thread on a {os.cpu_count()}-core CPU, shared with other jobs",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start, done = time.perf_counter(), 0
    with open(args.out, "w", newline="") as f, ProcessPoolExecutor(args.workers) as pool:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        f.flush()
        futures = {pool.submit(run, job, args.profile, args.device): job for job in jobs}
        for future in as_completed(futures):
            row = {k: round(v, 4) if isinstance(v, float) else v for k, v in future.result().items()}
            writer.writerow(row)
            f.flush()
            done += 1
            print(f"[{done}/{len(jobs)} {time.perf_counter() - start:.0f} s] {row}", flush=True)
        f.write(f"# finished: {done} rows in {time.perf_counter() - start:.0f} s\n")
    print(f"wrote {done} rows to {args.out}")


if __name__ == "__main__":
    main()
