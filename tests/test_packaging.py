"""pip and conda install the same things, and torch stays a range (Colab keeps its torch)."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"torch": "pytorch"}


def name_of(requirement):
    return re.split(r"[<>=!~ \[;@]", requirement.strip(), maxsplit=1)[0].lower()


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_torch_is_a_range_never_one_version():
    torch = [d for d in pyproject()["dependencies"] if name_of(d) == "torch"]
    assert torch and "==" not in torch[0] and ">=" in torch[0], torch


def test_environment_yml_has_every_dependency():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {name_of(d) for d in dep["pip"]}
        else:
            conda.add(name_of(dep.split("=")[0]))
    project = pyproject()
    wanted = [*project["dependencies"], *project["optional-dependencies"]["book"],
              *project["optional-dependencies"]["test"]]
    missing = [d for d in wanted if CONDA_NAMES.get(name_of(d), name_of(d)) not in conda | pip]
    assert not missing, f"environment.yml lacks {missing}"
    assert "-e ." in {d.strip() for dep in env["dependencies"] if isinstance(dep, dict) for d in dep["pip"]}


def test_the_lock_pins_what_pyproject_needs():
    lock = {name_of(line) for line in (ROOT / "requirements-lock.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    project = pyproject()
    wanted = [*project["dependencies"], *project["optional-dependencies"]["book"],
              *project["optional-dependencies"]["test"]]
    missing = [d for d in wanted if name_of(d).replace("_", "-") not in {n.replace("_", "-") for n in lock}]
    assert not missing, f"requirements-lock.txt lacks {missing}: run `make lock`"


def test_the_package_docstring_lists_every_module():
    """edu_gen/__init__.py is the map of the package: each module has a line there."""
    listed = set(re.findall(r"^- ``(\w+)``", (ROOT / "edu_gen" / "__init__.py").read_text(), re.M))
    modules = {p.stem for p in (ROOT / "edu_gen").glob("*.py")} - {"__init__"}
    assert modules - listed == set(), f"add these modules to edu_gen/__init__.py's list: {modules - listed}"
    assert listed - modules == set(), f"edu_gen/__init__.py lists modules that do not exist: {listed - modules}"
