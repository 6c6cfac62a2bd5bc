"""The build check: every chapter was built, and no page shows an error output."""
import re

import pytest
from bs4 import BeautifulSoup

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


def error_outputs(html):
    """(marker, output HTML) for each cell output area that shows an error. Each
    ``cell_output`` container is searched whole, every output of the cell included."""
    outputs = [str(div) for div in BeautifulSoup(html, "html.parser")
               .find_all("div", class_="cell_output")]
    return [(marker.pattern, o) for o in outputs for marker in ERROR_MARKERS if marker.search(o)]


def test_the_check_finds_an_error_after_another_output_of_the_same_cell():
    cell = ('<div class="cell docutils container"><div class="cell_input">raise ValueError'
            '</div><div class="cell_output docutils container">'
            '<div class="output stream highlight-myst-ansi notranslate"><pre>step 1</pre></div>'
            '<div class="output traceback highlight-ipythontb notranslate"><pre>'
            'ValueError: bad</pre></div></div></div>')
    assert error_outputs(cell)
    assert not error_outputs(cell.replace("output traceback", "output stream")
                             .replace("ValueError: bad", "fine"))
    # an error written in a cell's source (an example) is not an error output
    assert not error_outputs('<div class="cell_input">Traceback (most recent call last)</div>')


@pytest.mark.parametrize("name", toc_files())
def test_page_has_no_error_output(name):
    page = HTML / f"{name}.html"
    if not page.exists():
        pytest.fail(f"{page} missing: run `make book`")
    hits = error_outputs(page.read_text(encoding="utf-8"))
    assert not hits, f"{name}: an output shows an error ({hits[0][0]}):\n{hits[0][1][:800]}"


@pytest.mark.parametrize("name", toc_files())
def test_notebook_pages_have_outputs(name):
    """A notebook chapter whose cells produced nothing was not executed."""
    page = HTML / f"{name}.html"
    html = page.read_text(encoding="utf-8") if page.exists() else ""
    if 'class="cell docutils container"' not in html:
        pytest.skip(f"{name} is a markdown page")
    assert 'class="cell_output' in html, f"{name}: no cell outputs in the built page"
