"""The Colab install cell keeps Colab's torch, and a chapter runs after it.

A fresh Python stands in for Colab: torch, torchvision and the rest are already installed
(this environment's packages, seen through a folder of links) and edu_gen is not. The first
cell of book/vae/elbo.ipynb runs as on Colab, its own `%pip install` line, with only the git
address replaced by a copy of the working tree (no lock). Then the chapter runs in the quick
profile, and the test checks that edu_gen is a real install from that copy, that the cell
installed nothing else, and that torch and torchvision are the very ones of before.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts.colab_cell import colab_cell_source, repository_url

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "vae" / "elbo.ipynb"
# What pip needs to build edu_gen (pyproject.toml's package, readme and license), copied so
# that the build leaves no build/ folder in the working tree.
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "edu_gen"]
VERSIONS = """\
import json, torch, torchvision
print(json.dumps({"torch": [torch.__version__, torch.__file__],
                  "torchvision": [torchvision.__version__, torchvision.__file__]}))
"""


def run(python, code):
    # cwd: anywhere but the repository, whose edu_gen folder would be imported
    return subprocess.run([python, "-c", code], cwd=python.parent, check=True,
                          capture_output=True, text=True).stdout


def colab_python(tmp_path):
    """A new venv that sees every package of this one but edu_gen; the path of its python."""
    try:
        import venv  # noqa: F401  (Debian ships it apart, as python3-venv)
    except ImportError:
        pytest.skip("no venv module to make the Colab stand-in (apt-get install python3-venv)")
    env = tmp_path / "colab"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", env], check=True)
    python = env / "bin" / "python"
    # Outside the venv: pip never uninstalls what lies outside the environment it installs in,
    # so nothing here can reach the links' targets.
    preinstalled = tmp_path / "preinstalled"
    preinstalled.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("edu_gen", "edu-gen", "__editable__")):
            (preinstalled / entry.name).symlink_to(entry)
    site_packages = Path(run(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
    (site_packages / "preinstalled.pth").write_text(
        f"import site; site.addsitedir({str(preinstalled)!r})\n")
    return python, site_packages


def colab_kernel(tmp_path, python):
    """A Jupyter kernel named colab on the new python; the folder to put on JUPYTER_PATH."""
    spec = tmp_path / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python",
        "env": {"EDU_GEN_PROFILE": "quick",
                # This machine's pip settings (a constraints file, say) are not Colab's.
                "PIP_CONFIG_FILE": os.devnull,
                # Build with the setuptools at hand, offline ("0" is how pip spells
                # --no-build-isolation in the environment).
                "PIP_NO_BUILD_ISOLATION": "0"}}))
    return tmp_path / "jupyter"


def printed(cell):
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def errors(cell):
    return [f"{output.ename}: {output.evalue}" for output in cell.get("outputs", [])
            if output.output_type == "error"]


def copy_sources(destination):
    destination.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, destination / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, destination)
    return destination


def test_colab_cell_keeps_torch_and_the_chapter_runs(tmp_path, monkeypatch):
    python, site_packages = colab_python(tmp_path)
    # Before the first cell, as on Colab: torch is there and edu_gen is not.
    found = run(python, "import importlib.util as u; print(u.find_spec('edu_gen'))").strip()
    assert found == "None", f"the stand-in imports edu_gen before the install cell: {found}"
    before = json.loads(run(python, VERSIONS))
    assert before["torch"][1].startswith(str(tmp_path / "preinstalled"))

    notebook = nbformat.read(CHAPTER, as_version=4)
    install = notebook.cells[0]
    assert install.source == colab_cell_source(), "run `python scripts/colab_cell.py`"
    source = copy_sources(tmp_path / "edu-gen")
    install.source = install.source.replace(f"git+{repository_url()}", source.as_uri())
    assert f'"edu-gen @ {source.as_uri()}"' in install.source
    # Colab's kernel has imported google.colab before any cell runs.
    notebook.cells.insert(0, nbformat.v4.new_code_cell(
        'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'))
    # Right after the install cell: where edu_gen, torch and torchvision now come from.
    report = nbformat.v4.new_code_cell("import edu_gen\nprint(edu_gen.__file__)\n" + VERSIONS)
    notebook.cells.insert(2, report)

    monkeypatch.setenv("JUPYTER_PATH", str(colab_kernel(tmp_path, python)))
    # allow_errors: run every cell, then say first what the install did, then what failed.
    NotebookClient(notebook, kernel_name="colab", timeout=600, allow_errors=True,
                   resources={"metadata": {"path": str(CHAPTER.parent)}}).execute()

    pip_said = printed(install)
    assert "ERROR" not in pip_said, pip_said
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    installed = sorted(path.name for path in site_packages.iterdir())
    assert installed == ["edu_gen", f"edu_gen-{version}.dist-info", "preinstalled.pth"], (
        f"the install cell installed more than edu_gen: {installed}")
    broken = errors(report)
    assert not broken, f"after the install cell, importing edu_gen, torch, torchvision fails: {broken}"
    edu_gen_file, versions = printed(report).split("\n", 1)
    after = json.loads(versions)
    assert Path(edu_gen_file).is_relative_to(site_packages), (
        f"edu_gen was imported from {edu_gen_file}, not from the install into {site_packages}")
    assert after["torch"] == before["torch"], "the install cell changed torch"
    assert after["torchvision"] == before["torchvision"], "the install cell changed torchvision"
    failed = [(cell.source, errors(cell)) for cell in notebook.cells if errors(cell)]
    assert not failed, f"{CHAPTER.name} failed on Colab: {failed}"
