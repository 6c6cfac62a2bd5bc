"""The build check: every chapter was built, and no page shows an error output."""
import re

import pytest

from site_pages import HTML, built_pages, toc_files

# How myst-nb renders a failed cell, and what a Python traceback looks like as text.
ERROR_MARKERS = [
    re.compile(r'class="[^"]*\boutput\b[^"]*\btraceback\b'),
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r"\b[A-Z][A-Za-z]*Error\b: "),
]


def test_every_page_in_the_toc_was_built():
    missing = [str(p.relative_to(HTML)) for p in built_pages() if not p.exists()]
    assert not missing, f"pages listed in _toc.yml but not built: {missing}"


@pytest.mark.parametrize("name", toc_files())
def test_page_has_no_error_output(name):
    page = HTML / f"{name}.html"
    if not page.exists():
        pytest.fail(f"{page} missing: run `make book`")
    html = page.read_text(encoding="utf-8")
    # Code cells that *show* an error on purpose would be in a cell's source, not its
    # output; only the output areas are searched.
    outputs = re.findall(r'<div class="cell_output[^"]*".*?</div>\s*</div>', html, flags=re.S)
    for marker in ERROR_MARKERS:
        hits = [o for o in outputs if marker.search(o)]
        assert not hits, f"{name}: an output shows an error ({marker.pattern}):\n{hits[0][:800]}"


@pytest.mark.parametrize("name", toc_files())
def test_notebook_pages_have_outputs(name):
    """A notebook chapter whose cells produced nothing was not executed."""
    page = HTML / f"{name}.html"
    html = page.read_text(encoding="utf-8") if page.exists() else ""
    if 'class="cell docutils container"' not in html:
        pytest.skip(f"{name} is a markdown page")
    assert 'class="cell_output' in html, f"{name}: no cell outputs in the built page"
