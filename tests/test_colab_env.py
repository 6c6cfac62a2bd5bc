"""The Colab install cell keeps Colab's torch, and a chapter runs after it; a homework's public
checks run on Colab.

A fresh Python stands in for Colab: torch, torchvision and the rest are already installed
(this environment's packages, seen through a folder of links) and edu_gen is not. The first
cell of book/vae/elbo.ipynb runs as on Colab, its own `%pip install` line, with only the git
address replaced by a copy of the working tree (no lock). Then the chapter runs in the quick
profile, and the test checks that edu_gen is a real install from that copy, that the cell
installed nothing else, and that torch and torchvision are the very ones of before.

The homework test turns on otter's own Colab detection (``otter.check.utils.IPythonInterpreter.COLAB``
looks for ``google.colab`` in ``str(get_ipython())``, the class of Colab's IPython shell) and runs
HW1's first cell as on Colab, in a folder without the notebook: the cell installs edu_gen and
fetches the public test files from a local server that stands in for the repository's raw files,
and then every ``grader.check`` finds and runs its tests.
"""
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from scripts.colab_cell import colab_cell_source, repository_url
from scripts.make_assignment import public_tests_url
from tests.otter_helpers import edit, otter_assign

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


# As on Colab: the kernel's IPython shell is an instance of google.colab._shell.Shell, which is all
# that otter looks at (its str() names the class). No module named google.colab is made.
COLAB_SHELL = """\
import types
shell = get_ipython()
shell.__class__ = types.new_class("Shell", (type(shell),),
                                  exec_body=lambda ns: ns.update(__module__="google.colab._shell"))
del shell, types
"""
# Right after the first cell: what otter sees, and what the cell fetched.
OTTER_SEES = """\
import json, os
from otter.check.utils import IPythonInterpreter
print(json.dumps({"colab": IPythonInterpreter.COLAB.value.running(), "shell": str(get_ipython()),
                  "grader_on_colab": grader.interpreter is IPythonInterpreter.COLAB,
                  "tests": sorted(os.listdir("tests")), "notebooks": sorted(f for f in os.listdir() if f.endswith(".ipynb"))}))
"""


def served(folder):
    """A local HTTP server of ``folder`` (it stands in for raw.githubusercontent.com); its address."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_homework_public_checks_run_on_colab(tmp_path, monkeypatch):
    python, _ = colab_python(tmp_path)
    assigned = otter_assign(ROOT / "homework" / "hw1_vae" / "hw1_vae.ipynb", tmp_path / "hw1_vae")
    # the solution, with one planted mistake (q2's KL of the wrong sign) so that a check must fail;
    # without its training cell (otter_ignore), which a student runs but which this test does not need
    notebook = edit(assigned / "autograder" / "hw1_vae.ipynb", "return -0.5 * torch.sum(", "return 0.5 * torch.sum(")
    notebook.cells = [c for c in notebook.cells if "otter_ignore" not in c.metadata.get("tags", [])]
    first = notebook.cells[next(i for i, c in enumerate(notebook.cells) if c.cell_type == "code")]
    source = copy_sources(tmp_path / "edu-gen")
    server = served(ROOT)
    try:
        local = f"http://127.0.0.1:{server.server_address[1]}/homework/hw1_vae/tests"
        assert public_tests_url("hw1_vae") in first.source and f"git+{repository_url()}" in first.source
        first.source = (first.source.replace(public_tests_url("hw1_vae"), local)
                        .replace(f"git+{repository_url()}", source.as_uri()))
        notebook.cells.insert(0, nbformat.v4.new_code_cell(COLAB_SHELL))
        report = nbformat.v4.new_code_cell(OTTER_SEES)
        notebook.cells.insert(notebook.cells.index(first) + 1, report)
        content = tmp_path / "content"   # Colab's working folder: the notebook is not in it
        content.mkdir()
        monkeypatch.setenv("JUPYTER_PATH", str(colab_kernel(tmp_path, python)))
        monkeypatch.delenv("PYTHONPATH", raising=False)   # edu_gen only from the cell's install
        NotebookClient(notebook, kernel_name="colab", timeout=600, allow_errors=True,
                       resources={"metadata": {"path": str(content)}}).execute()
    finally:
        server.shutdown()
    assert not errors(first), (printed(first), errors(first))
    seen = json.loads(printed(report).strip().splitlines()[-1])
    assert seen["colab"] and seen["grader_on_colab"], seen   # otter itself takes the kernel for Colab
    assert seen["shell"].startswith("<google.colab._shell.Shell object"), seen
    assert seen["notebooks"] == [] and seen["tests"] == [f"q{i}.py" for i in range(1, 8)], seen
    fetched = "".join((content / "tests" / name).read_text() for name in seen["tests"])
    assert "hidden=True" not in fetched and "test_iwae_stable" not in fetched
    checks = {}
    for cell in notebook.cells:
        found = cell.source.startswith("grader.check(") and cell.source.split('"')[1]
        if found:
            assert not errors(cell), (found, errors(cell))
            checks[found] = "".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "")
                                    for o in cell.outputs)
    assert sorted(checks) == [f"q{i}" for i in range(1, 8)], checks
    for question in ("q1", "q3", "q4", "q5", "q6"):
        assert "All test cases passed" in checks[question], (question, checks[question])
    assert "the KL has the wrong sign" in checks["q2"], checks["q2"]
    assert "no trained weights for q7" in checks["q7"], checks["q7"]   # it ran: the training did not
