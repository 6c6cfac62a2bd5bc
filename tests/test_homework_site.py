"""The students' website holds none of the homework's instructor-only material: no reference
figure, no hidden test, no rubric or model answer. The site is built from the pages of _toc.yml
only; the instructors' guide is homework/INSTRUCTORS.md, in the repository only. (The book itself
teaches the equations that the first questions implement: its reparameterization and its GAN
losses are on the site, and the Exercises chapter shows its solutions, by design.)"""
import csv
import re

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
