"""The students' website holds none of the homework's instructor-only material: no reference
figure, no hidden test, no rubric or model answer. The site is built from the pages of _toc.yml
only, and its homework page (book/homework.md) is the students' side: it is checked as source and
as built HTML. The instructors' guide is homework/INSTRUCTORS.md, in the repository only. (The book itself
teaches the equations that the first questions implement: its reparameterization and its GAN
losses are on the site, and the Exercises chapter shows its solutions, by design.)"""
import csv
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from scripts.grade import HOMEWORKS, ROOT

# How homework/INSTRUCTORS.md writes each kind of figure (integers and seconds are too common to
# say anything)
DECIMALS = {"neg_elbo": 2, "kl": 2, "rate": 2, "distortion": 2, "objective": 1, "fd": 1,
            "high_quality": 3, "recall": 3, "precision": 3}


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from toc_files(entry.get("chapters", []) + entry.get("parts", []) + entry.get("sections", []))


def site_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = {}
    for name in [toc["root"], *toc_files(toc.get("parts", []) + toc.get("chapters", []))]:
        path = next(p for p in (ROOT / f"{name}.md", ROOT / f"{name}.ipynb") if p.exists())
        pages[name] = (path.read_text() if path.suffix == ".md" else
                       "\n".join(c.source for c in nbformat.read(path, as_version=4).cells))
    return pages


def hidden_tests(homework):
    """The hidden test cells of a master: their function names and their messages."""
    master = nbformat.read(ROOT / "homework" / homework / f"{homework}.ipynb", as_version=4)
    found = set()
    for cell in master.cells:
        if cell.cell_type == "code" and "\nhidden: true\n" in cell.source:
            found |= set(re.findall(r"def (test_\w+)\(", cell.source))
            found |= {m for m in re.findall(r'"([^"{}]{40,})"', cell.source)}
    return found


def reference_figures():
    with open(ROOT / "homework" / "reference_figures.csv", newline="") as f:
        rows = list(csv.DictReader(line for line in f if not line.startswith("#")))
    return {f"{float(r['value']):.{DECIMALS[r['figure']]}f}" for r in rows if r["figure"] in DECIMALS}


def test_the_site_is_built_from_the_toc_only():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["only_build_toc_files"] is True
    assert "homework/*" in config["exclude_patterns"]
    assert not [name for name in site_pages() if name.startswith("homework")]


@pytest.mark.parametrize("homework", HOMEWORKS)
def test_no_hidden_test_or_rubric_on_the_site(homework):
    hidden = hidden_tests(homework)
    assert len(hidden) >= 3, hidden
    for name, text in site_pages().items():
        assert not [h for h in hidden if h in text], (name, [h for h in hidden if h in text])
        assert "Rubric" not in text and "Model answer" not in text, name


def test_no_reference_figure_on_the_site():
    figures = reference_figures()
    assert len(figures) >= 30, figures
    for name, text in site_pages().items():
        leaked = [f for f in figures if re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", text)]
        assert not leaked, f"{name} quotes the homework's reference figures {leaked}: they belong in homework/INSTRUCTORS.md"


def test_the_instructors_guide_quotes_the_measured_figures():
    guide = (ROOT / "homework" / "INSTRUCTORS.md").read_text()
    assert "reference_figures.csv" in guide
    quoted = reference_figures() & set(re.findall(r"\d+\.\d+", guide))
    assert len(quoted) >= 20, quoted


def test_the_built_homework_page_points_to_the_guide_and_holds_no_instructor_material(tmp_path):
    """The students' page as the site renders it (intro + book/homework, built with the book's own
    _config.yml): the repository's address as a link beside homework/INSTRUCTORS.md, no raw
    substitution, no reference figure and no hidden test in its HTML."""
    from bs4 import BeautifulSoup

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    assert "book/homework" in set(toc_files(toc["parts"])), "book/homework is not in _toc.yml"
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/homework\n")
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    done = subprocess.run([jb, "build", str(ROOT), "--toc", str(tmp_path / "_toc.yml"),
                           "--path-output", str(tmp_path), "-W", "-n", "--keep-going"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    html = (tmp_path / "_build" / "html" / "book" / "homework.html").read_text(encoding="utf-8")
    page = BeautifulSoup(html, "html.parser").find("main") or BeautifulSoup(html, "html.parser")
    text = page.get_text(" ")
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert "homework/INSTRUCTORS.md" in text
    assert any(a.get("href", "").rstrip("/") == url for a in page.find_all("a")), f"no link to {url}"
    assert "{{" not in text and "}}" not in text, "a substitution was left raw"
    leaked = [f for f in reference_figures() if re.search(rf"(?<![\d.]){re.escape(f)}(?!\d)", text)]
    assert not leaked, leaked
    for homework in HOMEWORKS:
        assert not [h for h in hidden_tests(homework) if h in text], homework
