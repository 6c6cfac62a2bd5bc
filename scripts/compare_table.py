"""VAE or GAN: real digits, two VAEs (decoder means and binary draws) and three GANs over
several seeds, beside three sets that are not digits, each model trained for the epochs of
``edu_gen.compare.PROFILES`` and judged by ``edu_gen.metrics``.

    python scripts/compare_table.py                       # quick profile, seeds 0 1 2 3 4
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

    from edu_gen.compare import FIELDS, MODELS, PROFILES, ROWS, load_data, run_rows
    from edu_gen.digit_features import load_digit_classifier
    from edu_gen.runtime import seed_offset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
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
        f"profile: {args.profile}; seeds: {' '.join(map(str, args.seeds))} (EDU_GEN_SEED_OFFSET "
        f"{seed_offset()}); epochs: "
        + ", ".join(f"{k} {v}" for k, v in p["epochs"].items())
        + f"; batch {p['vae_batch']} (VAEs), {p['gan_batch']} (GANs); {p['n_samples']} samples "
        f"against {p['n_samples']} held-out digits; evaluation standard errors over "
        f"{p['eval_sets']} fresh sets; IWAE k = {p['iwae_k']} and rate on {p['iwae_digits']} "
        f"held-out digits; Adam, lr decayed linearly to 0 (VAEs 2e-3, GANs 2e-4)",
        f"versions: python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {numpy.__version__}",
        f"machine: {platform.processor() or platform.machine()}, device {args.device}, "
        f"{args.threads} torch thread(s) on a {os.cpu_count()}-core CPU, shared with other jobs",
    ]
    data = load_data(args.profile, args.device)
    second = load_digit_classifier(arch="mlp")
    names = [name for name in ROWS if name in MODELS or "," not in name]   # a VAE gives 2 rows
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start, done = time.perf_counter(), 0
    with open(args.out, "w", newline="") as f:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        f.flush()
        for seed in args.seeds:     # seed by seed: an interrupted run has every model on the first seeds
            for name in names:
                rows, _, _ = run_rows(name, seed, args.profile, args.device, data, second)
                for row in rows:
                    row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
                    writer.writerow(row)
                    f.flush()
                    done += 1
                    print(f"{row['model']:17s} seed {seed}: FD {row['fd']:.1f} ± {row['fd_se']:.1f}, "
                          f"precision {row['precision']:.3f}, recall {row['recall']:.3f}, NLL "
                          f"{row['nll']}, rate {row['rate']}, {row['seconds']} s "
                          f"[{time.perf_counter() - start:.0f} s]", flush=True)
        f.write(f"# finished: {done} rows in {time.perf_counter() - start:.0f} s\n")
    print(f"wrote {done} rows to {args.out}")


if __name__ == "__main__":
    main()
