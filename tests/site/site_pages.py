"""Where the built site is and which pages it must have (`make book` writes _build/html).

``EDU_GEN_SITE=<folder>`` checks another book instead: a folder with its own ``_toc.yml``
built into ``<folder>/_build/html`` (a one-chapter book, see HELPERS.md).
"""
import os
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = Path(os.environ.get("EDU_GEN_SITE") or ROOT)
HTML = BOOK / "_build" / "html"
SCREENSHOTS = BOOK / "_build" / "screenshots"

# sphinx-thebe (pulled in by Jupyter Book 1) writes its one-line config script twice on
# every page; the second copy's `const` fails. Thebe is not used here, so it is harmless.
KNOWN_ERRORS = (
    "Identifier 'THEBE_JS_URL' has already been declared",
    "Got invalid theme mode",  # pydata-sphinx-theme, before a reader picks light or dark
    "Failed to load resource",  # says no more; the failed request itself is listed instead
)


def toc_files():
    """Every page the table of contents lists (root first), without suffix."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return files


def built_pages():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built book in {HTML}: run `make book` first")
    return [HTML / f"{name}.html" for name in toc_files()]


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
