"""What both homework tests share: the solution lines of an otter-assign master, running
`otter assign`, and planting a mistake in a copy of the solution notebook."""
import subprocess
import sys

import nbformat


def solution_lines(master):
    """The lines between # BEGIN SOLUTION (or # BEGIN SOLUTION NO PROMPT) and # END SOLUTION in
    the master's code cells, and the lines that end in # SOLUTION."""
    lines = []
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in ("# BEGIN SOLUTION", "# BEGIN SOLUTION NO PROMPT"):
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif (inside or line.rstrip().endswith("# SOLUTION")) and line.strip():
                lines.append(line.replace("# SOLUTION", "").strip())
    return lines


def otter_assign(master, out, timeout=180):
    """Run `otter assign` on ``master`` into ``out``; fail the test with otter's output."""
    proc = subprocess.run([sys.executable, "-m", "otter", "assign", str(master), str(out)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def edit(notebook, old, new):
    """The notebook with ``old`` replaced by ``new`` in the one code cell that holds it once."""
    nb = nbformat.read(notebook, as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(hits) == 1 and hits[0].source.count(old) == 1, f"{old!r} is not once in the solution"
    hits[0].source = hits[0].source.replace(old, new)
    return nb


def points_of(row, points):
    """The points of each question in ``points`` that a grades-CSV row gave, as floats."""
    return {q: float(row[q]) for q in points}


def assert_full_marks(row, points):
    """The row has every question's points, their sum as total, and no message."""
    assert points_of(row, points) == points, row
    assert float(row["total"]) == sum(points.values())
    assert row["message"] == ""
