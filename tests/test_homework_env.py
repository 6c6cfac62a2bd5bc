"""The grading image of `otter grade` (Docker) installs what the homework imports, in the versions
of the lock. Each homework's test checks its autograder zip's environment.yml against the imports
of its tests and graded cells (tests.otter_helpers.assert_grading_image_complete); this checks
the file they all name."""
import re

import nbformat
import pytest
import yaml

from scripts.grade import HOMEWORKS, ROOT

REQUIREMENTS = ROOT / "homework" / "requirements.txt"


def lines(path):
    return [l.strip() for l in path.read_text().splitlines() if l.strip() and not l.startswith("#")]


def test_requirements_pin_the_lock_and_fetch_edu_gen_without_git():
    lock = dict(l.split("==", 1) for l in lines(ROOT / "requirements-lock.txt") if "==" in l)
    lock = {k.lower(): v for k, v in lock.items()}
    pinned = [l for l in lines(REQUIREMENTS) if "==" in l]
    assert len(pinned) >= 8
    for line in pinned:
        name, version = line.split("==")
        assert lock.get(name.lower()) == version, f"{line}: requirements-lock.txt has {lock.get(name.lower())}"
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    branch = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["branch"]
    assert f"edu-gen @ {url}/archive/refs/heads/{branch}.zip" in lines(REQUIREMENTS)


@pytest.mark.parametrize("homework", HOMEWORKS)
def test_each_master_names_the_requirements(homework):
    config = nbformat.read(ROOT / "homework" / homework / f"{homework}.ipynb", as_version=4).cells[0].source
    settings = yaml.safe_load(re.sub(r"^# ASSIGNMENT CONFIG\n", "", config))
    assert settings["requirements"] == "../requirements.txt" and str(settings["python_version"]) == "3.11"
