"""make bench runs: one tiny benchmark prints the line the appendix quotes, for each loop."""
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_prints_one_line_per_model_with_a_speed_up():
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--models", "ring-gan", "--repeats", "1",
         "--warmup", "0", "--no-memory"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    line = re.search(r"^ring-gan: edu_gen ([\d.]+) s/epoch, textbook ([\d.]+) s/epoch, "
                     r"speed-up ([\d.]+)x$", run.stdout, flags=re.M)
    assert line, run.stdout[-2000:]
    edu_gen, textbook, ratio = map(float, line.groups())
    assert edu_gen > 0 and textbook > 0
    assert abs(ratio - textbook / edu_gen) < 0.01 + 0.01 * ratio   # the ratio is textbook / edu_gen
    assert "reproduce: make bench" in run.stdout
