"""The book's notebooks as files: listed in the table of contents, stored without outputs,
with the Colab install cell first, a check cell, and no redefinition of the package."""
import ast
import inspect
import re
from pathlib import Path

import nbformat
import pytest
import yaml

import edu_gen
from scripts.colab_cell import MARKER, TAGS, colab_cell_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if "_vendor" not in p.parts
                   and ".ipynb_checkpoints" not in p.parts)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def toc_entries():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = [toc["root"]]
    for part in toc["parts"]:
        for chapter in part["chapters"]:
            entries.append(chapter["file"])
            entries += [s["file"] for s in chapter.get("sections", [])]
    return entries


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def python_source(cell):
    """The cell without IPython magics and shell escapes, ready for ast."""
    lines = [line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!"))
             else line for line in cell.source.splitlines()]
    return "\n".join(lines)


def test_toc_and_notebooks_agree():
    entries = toc_entries()
    for entry in entries:
        assert any((ROOT / f"{entry}{suffix}").exists() for suffix in (".md", ".ipynb")), (
            f"_toc.yml lists {entry} but there is no {entry}.md or .ipynb")
    unlisted = [i for i in IDS if i.removesuffix(".ipynb") not in entries]
    assert not unlisted, f"notebooks not in _toc.yml (add them, or they are never built): {unlisted}"


def test_colab_launch_button_is_configured():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["launch_buttons"]["colab_url"] == "https://colab.research.google.com"
    assert config["repository"]["url"].startswith("https://github.com/")


def test_readme_links_the_repository_of_config():
    """README.md is plain Markdown (no substitutions): its GitHub and Colab links must name
    the repository of `_config.yml`, the one place a fork changes it."""
    repository = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    owner_name = repository.removeprefix("https://github.com/").rstrip("/")
    readme = (ROOT / "README.md").read_text()
    linked = re.findall(r"(?:github\.com|colab\.research\.google\.com/github)/([\w.-]+/[\w.-]+)",
                        readme)
    assert linked, "README.md links no repository"
    assert set(linked) == {owner_name}, (
        f"README.md links {sorted(set(linked))}; _config.yml says {owner_name}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_cell_installs_edu_gen_on_colab(path):
    first = code_cells(path)[0]
    assert first.source == colab_cell_source(), (
        f"{path.name}: the first cell is not the Colab install cell: "
        "run `python scripts/colab_cell.py`")
    assert MARKER in first.source and "google.colab" in first.source
    assert first.metadata.get("tags") == TAGS, "run `python scripts/colab_cell.py`"
    # Colab's torch must stay: the install line never names torch.
    assert not re.search(r"pip install[^\n]*\btorch\b", first.source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_without_outputs(path):
    stored = [i for i, c in enumerate(code_cells(path)) if c.outputs or c.execution_count]
    assert not stored, f"{path.name}: code cells {stored} have stored outputs; the build executes them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_uses_the_profile_and_a_seed(path):
    source = "\n".join(c.source for c in code_cells(path)[:3])
    assert "get_profile(" in source and "seed_everything(" in source, (
        f"{path.name}: cell 2 should set device, PROFILE and the seed (see CONTRIBUTING.md)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_seeds_only_through_the_runtime(path):
    """The margin sweep shifts every seed by EDU_GEN_SEED_OFFSET: a direct manual_seed escapes it."""
    for i, cell in enumerate(code_cells(path)):
        assert "manual_seed(" not in cell.source, (
            f"{path.name}, code cell {i}: seed with edu_gen.runtime.seed_everything(n) or "
            f"generator(n), not manual_seed (the margin sweep's seed offset must reach it)")


def is_check(node):
    """A plain ``assert`` or a call of ``edu_gen.checks.claim`` (``claim(...)``)."""
    return isinstance(node, ast.Assert) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "claim")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_has_check_cells(path):
    checks = sum(is_check(node)
                 for cell in code_cells(path)
                 for node in ast.walk(ast.parse(python_source(cell))))
    assert checks >= 2, f"{path.name}: a chapter asserts its claims in check cells"


def package_names():
    """Every public function and class defined in edu_gen's modules."""
    names = set()
    for module in Path(edu_gen.__file__).parent.glob("*.py"):
        tree = ast.parse(module.read_text())
        names |= {node.name for node in tree.body
                  if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_")}
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_does_not_redefine_the_package(path):
    """A chapter imports what edu_gen has. Building a piece by hand on purpose is allowed
    when the same cell or one of the next two compares it with the package (`assert_close`,
    an assert naming it, or an exercise checker of edu_gen.exercises given it)."""
    cells = code_cells(path)
    package = package_names()
    for i, cell in enumerate(cells):
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in package:
                later = "\n".join(c.source for c in cells[i:i + 3])
                checked = re.search(rf"assert[^\n]*\b{node.name}\b", later) or re.search(
                    rf"exercises\.check_\w+\({node.name}\)", later) or (
                    "assert_close" in later and node.name in later)
                assert checked, (
                    f"{path.name}: defines {node.name}, which edu_gen already has, and never "
                    "checks it against the package; import it instead")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_empty_code_cells(path):
    """A code cell with nothing but comments shows up as a blank box on the page."""
    empty = [i for i, c in enumerate(code_cells(path))
             if not any(line.strip() and not line.strip().startswith("#") for line in c.source.splitlines())]
    assert not empty, f"{path.name}: code cells {empty} hold no code"


# The width of the book's code: black -l 88. book/_vendor/code.css sets code cells at 12 px,
# so 88 columns fit the theme's text column at 1280 px (tests/site/test_browser.py measures
# the built pages); a longer line scrolls sideways.
CODE_COLUMNS = 88


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_fits_the_text_column(path):
    long = [(i, len(line)) for i, c in enumerate(code_cells(path))
            if "remove-cell" not in c.metadata.get("tags", [])
            for line in c.source.splitlines() if len(line) > CODE_COLUMNS]
    assert not long, (
        f"{path.name}: code cells (index, line length) {long} have lines over {CODE_COLUMNS} "
        f"columns; they scroll sideways on the website: run `black -l {CODE_COLUMNS} --ipynb` "
        "and split long strings and comments by hand")


def imported_from_edu_gen(path):
    """{name: object} for every ``from edu_gen... import name`` in the notebook's code."""
    import importlib
    found = {}
    for cell in code_cells(path):
        for node in ast.walk(ast.parse(python_source(cell))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("edu_gen"):
                module = importlib.import_module(node.module)
                for a in node.names:  # a function, or a module (from edu_gen import x)
                    found[a.asname or a.name] = (
                        getattr(module, a.name) if hasattr(module, a.name)
                        else importlib.import_module(f"{node.module}.{a.name}"))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_printed_package_source_fits_the_text_column(path):
    """A chapter that prints a package function (``inspect.getsource``) shows it as an
    output; its lines fit the same column as the code cells."""
    names = {m for c in code_cells(path) for m in re.findall(r"getsource\((\w+)\)", c.source)}
    package = imported_from_edu_gen(path)
    long = {name: max(map(len, inspect.getsource(package[name]).splitlines()))
            for name in sorted(names)}
    long = {name: n for name, n in long.items() if n > CODE_COLUMNS}
    assert not long, (
        f"{path.name} prints package functions with lines over {CODE_COLUMNS} columns "
        f"(name: longest line) {long}; wrap them in edu_gen")


SETUP_STATEMENTS = (ast.Import, ast.ImportFrom, ast.Assign, ast.Expr)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_setup_cell_is_folded_and_checks_are_not(path):
    """The setup cell (the first after the Colab cell) only imports and seeds, and is folded
    behind a toggle (tag hide-input) so the prose leads; no check cell is folded."""
    cells = code_cells(path)
    setup = cells[1]
    assert "hide-input" in setup.metadata.get("tags", []), (
        f"{path.name}: the setup cell (second code cell) is not tagged hide-input")
    statements = ast.parse(python_source(setup)).body
    assert all(isinstance(s, SETUP_STATEMENTS) for s in statements), (
        f"{path.name}: the folded setup cell does more than import and seed; move the rest "
        "into a cell of its own")
    folded = [i for i, c in enumerate(cells) if "hide-input" in c.metadata.get("tags", [])
              and re.search(r"\bclaim\(|\bassert\b", c.source)]
    assert not folded, f"{path.name}: check cells {folded} are folded; a reader must see them"


def equation_labels():
    """Labels of the book's display equations: ``$$ ... $$ (label)`` in MyST markdown."""
    labels = set()
    for path in [*NOTEBOOKS, *(ROOT / "book").rglob("*.md")]:
        if path.suffix == ".ipynb":
            text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                             if c.cell_type == "markdown")
        else:
            text = path.read_text()
        labels |= set(re.findall(r"\$\$\s*\(([a-z0-9-]+)\)", text))
    return labels


def test_every_equation_a_docstring_cites_is_in_the_book():
    labels = equation_labels()
    assert {"elbo", "iwae", "d-step", "wgan-gp", "fd"} <= labels, "the label pattern finds nothing"
    missing = {}
    for path in sorted((ROOT / "edu_gen").glob("*.py")):
        for label in re.findall(r"Eq\. \(([a-z0-9-]+)\)", path.read_text()):
            if label not in labels:
                missing.setdefault(label, set()).add(path.name)
    assert not missing, (f"docstrings cite equations the book does not define: {missing}; "
                         "label the equation in its chapter ($$ ... $$ (label)) or fix the citation")
