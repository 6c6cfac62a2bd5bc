"""Measure the homework's reference figures: each master's solution, run as a student runs it.

    python scripts/homework_figures.py                       # seeds 0 1 2, every homework
    python scripts/homework_figures.py --seeds 0 --homework hw2_gan

For each homework: `otter assign` the master into a temporary folder; for each seed, set
``SEED = seed`` in its training cells, execute the solution notebook (the training cells use one
CPU thread), then measure the weights its training cells kept as the grader does
(edu_gen.homework.kept_weights, then edu_gen's evaluate / evaluate_generator / evaluate_samples);
the first seed's notebook is also graded with scripts/grade.py (points and seconds). Writes homework/reference_figures.csv, one row per figure,
with ``#`` lines for the command, date, machine and versions. homework/INSTRUCTORS.md quotes it and
HW3's hidden test holds its range of D + beta R (tests/test_homework3.py checks both).
"""
import argparse
import csv
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from scripts.grade import HOMEWORKS, find_autograder, grade_one  # noqa: E402
from edu_gen.data import load_mnist  # noqa: E402
from edu_gen.gan import DCGANGenerator, MLPGenerator  # noqa: E402
from edu_gen.homework import MIME, decode, load_weights  # noqa: E402
from edu_gen.metrics import evaluate_samples  # noqa: E402
from edu_gen.modes import evaluate_generator  # noqa: E402
from edu_gen.vae import VAE  # noqa: E402
from edu_gen.vae_eval import active_units, evaluate  # noqa: E402

OUT = ROOT / "homework" / "reference_figures.csv"


def kept(nb, question):
    return decode(next(o.data[MIME] for c in nb.cells for o in c.get("outputs", [])
                       if MIME in o.get("data", {}) and o.metadata[MIME]["question"] == question))


def training_seconds(nb, question):
    """The seconds that the training cell of ``question`` printed (its last JSON line)."""
    import json
    for cell in nb.cells:
        if f'keep_weights("{question}"' in cell.source:
            lines = [l for o in cell.outputs if o.output_type == "stream" for l in o.text.splitlines()]
            return json.loads(next(l for l in reversed(lines) if l.startswith("{")))["seconds"]


def measure(homework, nb):
    """[(question, figure, value)] as the grader computes them from the kept weights."""
    test = load_mnist("test", small=True)[0]
    rows = []
    if homework == "hw1_vae":
        k = kept(nb, "q7")
        scores = evaluate(load_weights(VAE(latent_dim=20, hidden=(400,)), k, "vae"), test)
        rows += [("q7", "neg_elbo", scores["neg_elbo"]), ("q7", "kl", scores["rate"]),
                 ("q7", "steps", k["counts"]["steps"]), ("q7", "training_seconds", training_seconds(nb, "q7"))]
    elif homework == "hw2_gan":
        k = kept(nb, "q5")
        g = load_weights(MLPGenerator(**k["models"]["generator"]["config"]), k, "generator")
        metric = evaluate_generator(g, "ring")
        rows += [("q5", "modes", metric["modes"]), ("q5", "high_quality", metric["high_quality"]),
                 ("q5", "g_steps", k["counts"]["g_steps"]), ("q5", "training_seconds", training_seconds(nb, "q5"))]
        k = kept(nb, "q7")
        g = load_weights(DCGANGenerator(latent_dim=64, ngf=16), k, "generator").eval()
        with torch.no_grad():
            samples = ((g(torch.randn(1000, 64, generator=torch.Generator().manual_seed(0))) + 1) / 2).clamp(0, 1)
        metric = evaluate_samples(samples, test[:1000])
        rows += [("q7", name, metric[name]) for name in ("fd", "recall", "precision")]
        rows += [("q7", "g_steps", k["counts"]["g_steps"]), ("q7", "training_seconds", training_seconds(nb, "q7"))]
    else:
        k = kept(nb, "q2")
        for name in sorted(k["models"], key=float):
            beta = float(name)
            model = load_weights(VAE(hidden=(256,), latent_dim=10), k, name).eval()
            scores = evaluate(model, test)
            samples = model.sample(500, generator=torch.Generator().manual_seed(1))
            rows += [(f"q2 beta={beta:g}", "rate", scores["rate"]),
                     (f"q2 beta={beta:g}", "distortion", scores["distortion"]),
                     (f"q2 beta={beta:g}", "objective", scores["distortion"] + beta * scores["rate"]),
                     (f"q2 beta={beta:g}", "fd", evaluate_samples(samples, test[500:1000])["fd"]),
                     (f"q2 beta={beta:g}", "active", active_units(model, test, threshold=0.1)[0])]
        rows.append(("q2", "training_seconds", training_seconds(nb, "q2")))
    return rows


def run(homework, seed, folder, grade):
    """Execute the solution of ``homework`` with SEED = ``seed`` (and grade it); its rows."""
    out = folder / homework
    if not out.exists():
        subprocess.run([sys.executable, "-m", "otter", "assign",
                        str(ROOT / "homework" / homework / f"{homework}.ipynb"), str(out)],
                       check=True, capture_output=True)
    path = out / "autograder" / f"{homework}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "otter_ignore" in cell.metadata.get("tags", []) and "\nSEED = 0\n" in cell.source:
            cell.source = cell.source.replace("\nSEED = 0\n", f"\nSEED = {seed}\n")
    start = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=3600, allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    executed = time.perf_counter() - start
    submission = folder / f"{homework}-{seed}.ipynb"
    nbformat.write(nb, submission)
    rows = measure(homework, nb) + [("all", "notebook_seconds", executed)]
    if grade:
        start = time.perf_counter()
        scores, message = grade_one(submission, find_autograder(out / "autograder"))
        rows += [("all", "points", sum(scores.values())), ("all", "grading_seconds", time.perf_counter() - start)]
        print(f"  {homework} seed {seed}: {sum(scores.values()):g} points {message}", flush=True)
    return [(homework, seed, q, name, value) for q, name, value in rows]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--homework", nargs="+", choices=HOMEWORKS, default=list(HOMEWORKS))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for homework in args.homework:
            for seed in args.seeds:
                start = time.perf_counter()
                rows += run(homework, seed, Path(tmp), grade=seed == args.seeds[0])
                print(f"{homework} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    versions = f"python {platform.python_version()}, torch {torch.__version__}"
    with open(OUT, "w", newline="") as f:
        f.write(f"# python scripts/homework_figures.py {' '.join(argv if argv is not None else sys.argv[1:])}\n"
                f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
                f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), load {os.getloadavg()[0]:.1f}\n"
                f"# {versions}; training cells on one CPU thread; profile: the masters' own sizes (no PROFILE)\n")
        writer = csv.writer(f)
        writer.writerow(["homework", "seed", "question", "figure", "value"])
        writer.writerows([h, s, q, n, f"{v:.4f}" if isinstance(v, float) else v] for h, s, q, n, v in rows)
    print(f"wrote {len(rows)} rows to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
