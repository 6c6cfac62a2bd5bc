"""Write the Colab install cell at the top of every notebook of the book.

The repository's address lives in one place, ``_config.yml`` (``repository: url``); this
script copies it into each notebook's first cell. ``tests/test_book.py`` fails when a
notebook's cell differs from what this script would write, so run it after adding a
notebook or changing the address:  python scripts/colab_cell.py
"""
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# Colab: install edu_gen"
# The cell runs on Colab and is left out of the web pages, which start with the title.
TAGS = ["colab", "remove-cell"]


def repository_url():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"]


def colab_cell_source(url=None):
    url = url or repository_url()
    return (
        f"{MARKER} (Colab's own torch is kept). Elsewhere `make book` installed it.\n"
        "import sys\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "edu-gen @ git+{url}"'
    )


def book_notebooks():
    """Every notebook under book/, sorted."""
    return sorted((ROOT / "book").rglob("*.ipynb"))


def with_colab_cell(notebook):
    """Return True if the notebook changed."""
    source = colab_cell_source()
    cells = notebook.cells
    if cells and cells[0].cell_type == "code" and cells[0].source.startswith(MARKER):
        if cells[0].source == source and cells[0].metadata.get("tags") == TAGS:
            return False
        cells[0].source = source
    else:
        cells.insert(0, nbformat.v4.new_code_cell(source))
    cells[0].metadata["tags"] = TAGS
    return True


def main():
    for path in book_notebooks():
        notebook = nbformat.read(path, as_version=4)
        if with_colab_cell(notebook):
            nbformat.write(notebook, path)
            print(f"updated {path.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
