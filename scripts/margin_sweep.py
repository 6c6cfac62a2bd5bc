"""The margin sweep: execute the book's notebooks over seed offsets and thread counts and
tabulate how far every check stood from failing.

    python scripts/margin_sweep.py                         # offsets 0 1 2 x threads 1 2
    python scripts/margin_sweep.py book/text/generating_text.ipynb --offsets 0 --threads 1
    python scripts/margin_sweep.py --profile full book/gan/minimax.ipynb
    python scripts/margin_sweep.py --table-only            # re-tabulate the runs on disk
    python scripts/margin_sweep.py --soft book/x.ipynb     # calibrate: broken claims do not
                                                           # stop the run (never the final word)

Each run executes one notebook in a fresh kernel, in its own folder as the book build does,
with ``EDU_GEN_SEED_OFFSET`` (every seed the chapter sets shifts by it),
``OMP_NUM_THREADS`` (another thread count sums floats in another order, as another CPU
does) and ``EDU_GEN_CHECK_LOG`` (every ``edu_gen.checks.claim`` appends its value, bounds
and margin there). Runs go to ``_build/margins/<profile>/o<offset>-t<threads>/``.

It then writes, for the notebooks run, ``book/appendix/margins_<profile>.csv`` (one row per
claim: its smallest margin over the runs, the values' range) and ``runs_<profile>.csv``
(each run: passed or the error, seconds), with the machine and versions in ``#`` lines, and
``margins_<profile>.md``, the same as tables that the appendix page includes. Rows of
notebooks not run this time are kept from the files already there.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPENDIX = ROOT / "book" / "appendix"
RUNS = ROOT / "_build" / "margins"
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb")
                   if "_vendor" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def execute(notebook, offset, threads, profile, timeout, soft=False):
    """Run one notebook in a subprocess with the sweep's environment; return its record."""
    name = str(notebook.relative_to(ROOT))
    folder = RUNS / profile / f"o{offset}-t{threads}"
    folder.mkdir(parents=True, exist_ok=True)
    stem = name.removeprefix("book/").removesuffix(".ipynb").replace("/", "__")
    log = folder / f"{stem}.jsonl"
    log.unlink(missing_ok=True)
    env = dict(os.environ, EDU_GEN_SEED_OFFSET=str(offset), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE", EDU_GEN_PROFILE=profile, EDU_GEN_CHECK_LOG=str(log),
               EDU_GEN_NOTEBOOK=name, TQDM_DISABLE="1", EDU_GEN_CHECK_SOFT="1" if soft else "0")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--execute-one", str(notebook), str(timeout),
                           str(folder / f"{stem}.ipynb")],
                          env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    error = "" if done.returncode == 0 else (done.stderr.strip().splitlines() or ["failed"])[-1]
    record = {"notebook": name, "offset": offset, "threads": threads, "profile": profile,
              "passed": done.returncode == 0, "soft": soft, "seconds": round(seconds, 1), "error": error[:300]}
    (folder / f"{stem}.json").write_text(json.dumps(record))
    print(f"{'passed' if record['passed'] else 'FAILED'} {name} offset {offset}, {threads} "
          f"thread(s), {seconds:.0f} s {error[:200]}", flush=True)
    return record


def execute_one(notebook, timeout, executed):
    """In the child process: execute the notebook in its folder, keep the executed copy
    (outputs included) at ``executed``; exit with the error on a cell error."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(notebook).parent)}})
    try:
        client.execute()
    except CellExecutionError as e:
        lines = [line for line in str(e).splitlines() if line.strip()]
        sys.exit(f"cell error: {lines[-1] if lines else e}")
    finally:
        if executed:
            nbformat.write(nb, executed)


def read_runs(profile):
    records, claims = [], []
    for status in sorted((RUNS / profile).glob("o*-t*/*.json")):
        records.append(json.loads(status.read_text()))
        log = status.with_suffix(".jsonl")
        if log.exists():
            run = {k: records[-1][k] for k in ("offset", "threads")}
            claims += [dict(json.loads(line), **run) for line in log.read_text().splitlines() if line]
    return records, claims


def bound_text(row):
    words = {"above": ">", "at_least": ">=", "below": "<", "at_most": "<="}
    return " and ".join(f"{words[k]} {row[k]:.4g}" for k in words if row.get(k) is not None)


def tabulate(profile, notebooks_run):
    records, claims = read_runs(profile)
    by_claim = {}
    for c in claims:
        by_claim.setdefault((c["notebook"], c["claim"]), []).append(c)
    rows = []
    for (notebook, name), cs in by_claim.items():
        values = [c["value"] for c in cs]
        worst = min(cs, key=lambda c: c["margin"])
        spread = max(values) - min(values)
        rows.append({"notebook": notebook, "claim": name, "bound": bound_text(worst),
                     "runs": len(cs), "failed": sum(not c["ok"] for c in cs),
                     "min_value": f"{min(values):.4g}", "max_value": f"{max(values):.4g}",
                     "min_margin": f"{worst['margin']:.3g}",
                     "margin_over_spread": f"{worst['margin'] / spread:.2g}" if spread else "",
                     "worst_run": f"offset {worst['offset']}, {worst['threads']} thread(s)"})
    runs = [{k: r.get(k, False) for k in ("notebook", "offset", "threads", "passed", "soft",
                                          "seconds", "error")} for r in records]
    header = header_lines(profile)
    write_csv(APPENDIX / f"margins_{profile}.csv", rows, notebooks_run, header)
    write_csv(APPENDIX / f"runs_{profile}.csv", runs, notebooks_run, header)
    write_markdown(profile)
    failed = [r for r in runs if not r["passed"] or r["soft"]]
    broken = [r for r in rows if r["failed"]]
    at_bound = [r for r in rows if not r["failed"] and float(r["min_margin"]) == 0]
    print(f"\n{len(rows)} claims over {len(runs)} runs; {len(failed)} failed runs, "
          f"{len(broken)} claims broken in some run, {len(at_bound)} met their inclusive "
          "bound exactly (an exact count)")
    for r in sorted(rows, key=lambda r: float(r["margin_over_spread"] or "inf"))[:25]:
        print(f"  margin {r['min_margin']:>8} ({r['margin_over_spread'] or '-':>5} x spread) "
              f"{r['notebook']}: {r['claim']} {r['bound']} [{r['min_value']}, {r['max_value']}]")
    for r in failed:
        print(f"  {'SOFT' if r['soft'] else 'FAILED'} run: {r['notebook']} offset {r['offset']} threads {r['threads']}: {r['error']}")
    return not failed


def header_lines(profile):
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [f"command: python scripts/{Path(__file__).name} {' '.join(sys.argv[1:])}".rstrip(),
            f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC (end)",
            f"profile: {profile}; runs: seed offsets x torch threads, one fresh kernel each",
            f"versions: python {platform.python_version()}, torch {torch.__version__}",
            f"machine: {platform.machine()}, {cpu}, {os.cpu_count()} cores"]


def write_csv(path, rows, notebooks_run, header):
    """Write ``rows``, keeping the file's rows of notebooks not run this time."""
    kept = []
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
        kept = [r for r in csv.DictReader(lines) if r["notebook"] not in notebooks_run]
    rows = sorted(kept + [r for r in rows if r["notebook"] in notebooks_run],
                  key=lambda r: tuple(str(v) for v in r.values()))
    if not rows:
        return
    with open(path, "w", newline="") as f:
        f.writelines(f"# {line}\n" for line in header)
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path):
    lines = path.read_text().splitlines() if path.exists() else []
    return ([line[2:] for line in lines if line.startswith("# ")],
            list(csv.DictReader(line for line in lines if not line.startswith("#"))))


def write_markdown(profile):
    """``margins_<profile>.md``: per notebook its runs, then every claim's margin."""
    header, claims = read_csv(APPENDIX / f"margins_{profile}.csv")
    _, runs = read_csv(APPENDIX / f"runs_{profile}.csv")
    header = header or read_csv(APPENDIX / f"runs_{profile}.csv")[0]
    out = [f"Written by `scripts/margin_sweep.py`: {'; '.join(header[1:])}.", "",
           "| notebook | runs passed | seconds per run | claims | thinnest margin (x spread) |",
           "|---|---|---|---|---|"]
    notebooks = sorted({r["notebook"] for r in runs})
    for nb in notebooks:
        mine = [r for r in runs if r["notebook"] == nb]
        passed = sum(r["passed"] == "True" and r["soft"] != "True" for r in mine)
        seconds = sorted(float(r["seconds"]) for r in mine)
        cs = [c for c in claims if c["notebook"] == nb]
        spread = [c for c in cs if c["margin_over_spread"]]
        thin = min(spread, key=lambda c: float(c["margin_over_spread"]), default=None)
        thin_text = f"{thin['claim']}: {thin['min_margin']} ({thin['margin_over_spread']}x)" if thin else ""
        out.append(f"| {nb} | {passed} of {len(mine)} | {seconds[0]:.0f} to {seconds[-1]:.0f} "
                   f"| {len(cs)} | {thin_text} |")
    for nb in notebooks:
        out += ["", f"**{nb}**", "", "| claim | bound | values over the runs | smallest margin | "
                "margin / spread |", "|---|---|---|---|---|"]
        for c in (c for c in claims if c["notebook"] == nb):
            values = (c["min_value"] if c["min_value"] == c["max_value"]
                      else f"{c['min_value']} to {c['max_value']}")
            flag = " **(broken)**" if c["failed"] != "0" else ""
            out.append(f"| {c['claim'].replace('|', '&#124;')} | {c['bound']} | {values} "
                       f"| {c['min_margin']}{flag} | {c['margin_over_spread'] or '-'} |")
    (APPENDIX / f"margins_{profile}.md").write_text("\n".join(out) + "\n")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--execute-one":
        return execute_one(sys.argv[2], int(sys.argv[3]), (sys.argv[4:] or [None])[0])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--offsets", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--profile", default="quick", choices=["quick", "full"])
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks run at once (a 2-thread run takes both cores alone)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds a cell may take")
    parser.add_argument("--table-only", action="store_true")
    parser.add_argument("--soft", action="store_true",
                        help="broken claims are logged, not raised (calibration only)")
    args = parser.parse_args()
    notebooks = [p.resolve() for p in args.notebooks] or NOTEBOOKS
    names = {str(p.relative_to(ROOT)) for p in notebooks}
    if not args.table_only:
        start = time.perf_counter()
        for threads in sorted(args.threads):
            jobs = max(1, args.jobs // threads)
            todo = [(nb, offset) for offset in args.offsets for nb in notebooks]
            with ThreadPoolExecutor(jobs) as pool:
                list(pool.map(lambda job: execute(job[0], job[1], threads, args.profile,
                                                  args.timeout, args.soft), todo))
        print(f"sweep: {time.perf_counter() - start:.0f} s")
    ok = tabulate(args.profile, names)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
