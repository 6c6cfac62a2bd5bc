"""The Colab install cell keeps Colab's torch, and a chapter runs after it.

A fresh Python stands in for Colab: torch, torchvision and the rest are already installed
(this environment's packages, seen through a folder of links) and edu_gen is not. The first
cell of book/vae/elbo.ipynb runs as Colab would run it, its own `%pip install` line, with only
the git address replaced by a copy of the working tree (no lock). Then the chapter runs in the
quick profile, and the test checks that edu_gen came from that install and that torch and
torchvision are the very same as before.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts.colab_cell import colab_cell_source, repository_url

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "vae" / "elbo.ipynb"
# What `pip install` of edu_gen needs from the working tree (pyproject.toml's packages, readme,
# license); a copy, so that the build leaves no build/ folder in the tree.
SOURCES = ["pyproject.toml", "README.md", "LICENSE", "edu_gen"]
REPORT = """\
import json, edu_gen, torch, torchvision
print("REPORT" + json.dumps({"edu_gen": edu_gen.__file__,
      "torch": [torch.__version__, torch.__file__],
      "torchvision": [torchvision.__version__, torchvision.__file__]}))"""


def colab_python(tmp_path):
    """A new venv that sees every package of this one except edu_gen; its python's path."""
    try:
        import venv  # noqa: F401  (Debian ships it apart, as python3-venv)
    except ImportError:
        pytest.skip("the venv module is not installed")
    env = tmp_path / "colab"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", env], check=True)
    python = env / "bin" / "python"
    preinstalled = tmp_path / "preinstalled"
    preinstalled.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not entry.name.lower().startswith(("edu_gen", "edu-gen", "__editable__")):
            (preinstalled / entry.name).symlink_to(entry)
    site_packages = run(python, "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    Path(site_packages, "preinstalled.pth").write_text(
        f"import site; site.addsitedir({str(preinstalled)!r})\n")
    return python


def run(python, code):
    # cwd: not the repository, whose edu_gen folder would shadow the install
    return subprocess.run([python, "-c", code], cwd=python.parent, check=True,
                          capture_output=True, text=True).stdout.strip()


def installed(python):
    """torch's and torchvision's version and file, and the names of every installed package."""
    return json.loads(run(python, """if True:
        import json, importlib.metadata as md, torch, torchvision
        print(json.dumps({"torch": [torch.__version__, torch.__file__],
              "torchvision": [torchvision.__version__, torchvision.__file__],
              "packages": sorted(d.metadata["Name"] + "==" + d.version for d in md.distributions())}))
    """))


def kernel(tmp_path, python):
    """A Jupyter kernel named colab that runs the new python, in the quick profile."""
    spec = tmp_path / "jupyter" / "kernels" / "colab"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab stand-in", "language": "python",
        "env": {"EDU_GEN_PROFILE": "quick"}}))
    return tmp_path / "jupyter"


def test_colab_cell_keeps_torch_and_the_chapter_runs(tmp_path, monkeypatch):
    start = time.perf_counter()
    python = colab_python(tmp_path)
    # The stand-in has torch and no edu_gen, as Colab before the first cell.
    assert run(python, "import torch; print(torch.__file__)").startswith(str(tmp_path / "preinstalled"))
    assert run(python, "import importlib.util as u; print(u.find_spec('edu_gen'))") == "None"
    before = installed(python)

    source = tmp_path / "edu-gen"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source)
    notebook = nbformat.read(CHAPTER, as_version=4)
    first = notebook.cells[0]
    assert first.source == colab_cell_source(), "run `python scripts/colab_cell.py`"
    first.source = first.source.replace(f"git+{repository_url()}", source.as_uri())
    assert f'%pip install --quiet "edu-gen @ {source.as_uri()}"' in first.source
    # Colab's kernel has imported google.colab before any cell runs.
    notebook.cells.insert(0, nbformat.v4.new_code_cell(
        'import sys, types\nsys.modules["google.colab"] = types.ModuleType("google.colab")'))
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))

    monkeypatch.setenv("JUPYTER_PATH", str(kernel(tmp_path, python)))
    NotebookClient(notebook, kernel_name="colab", timeout=600,
                   resources={"metadata": {"path": str(CHAPTER.parent)}}).execute()

    printed = "".join(o.get("text", "") for o in notebook.cells[-1].outputs)
    after = json.loads(printed.split("REPORT", 1)[1])
    site_packages = python.parent.parent / "lib"
    assert Path(after["edu_gen"]).is_relative_to(site_packages), (
        f"edu_gen came from {after['edu_gen']}, not from the install into {site_packages}")
    assert after["torch"] == before["torch"], "the install cell changed torch"
    assert after["torchvision"] == before["torchvision"], "the install cell changed torchvision"
    now = installed(python)
    assert set(now["packages"]) - set(before["packages"]) == {"edu-gen==0.1.0"}
    assert set(before["packages"]) <= set(now["packages"])
    print(f"Colab stand-in: {time.perf_counter() - start:.0f} s")
