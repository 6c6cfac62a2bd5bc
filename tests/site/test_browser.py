"""The browser check: every built page opened in Debian's headless Chromium.

Asserts what a reader would notice: math typeset by MathJax (served by the site itself,
so it works offline), every image loaded, widgets drawn, no traceback text, and no
request leaving the machine. Saves a full-page screenshot of each page into
_build/screenshots/ to look at.
"""
import re

import pytest

from site_pages import BOOK, HTML, KNOWN_ERRORS, SCREENSHOTS, built_pages, chromium_path, toc_files

playwright = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

# The widget manager looks for its icon font (Font Awesome) next to each page, under
# @jupyter-widgets/html-manager/dist/; the book's widgets draw no icons, so text and
# sliders are unaffected.
KNOWN_MISSING = re.compile(r"@jupyter-widgets/html-manager/dist/\w+\.(woff2?|ttf|eot|svg)$")

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


# After the screenshot (which shows the page as it loads, setup cells folded): which code
# cells are folded, then every fold opened and each code cell's overflow measured.
CODE_LAYOUT = """() => {
    const cells = [...document.querySelectorAll("div.cell")].filter(
        cell => cell.querySelector("div.cell_input"));
    const folded = cells.map(cell => {
        const fold = cell.querySelector("details.hide.above-input");
        return {folded: fold !== null && !fold.open,
                text: cell.querySelector("div.cell_input").textContent};
    });
    document.querySelectorAll("div.cell details").forEach(d => { d.open = true; });
    const overflow = [...document.querySelectorAll("div.cell_input pre")].map(pre => ({
        over: pre.scrollWidth - pre.clientWidth,
        line: pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a), ""),
    })).filter(cell => cell.over > 0);
    const outputs = [...document.querySelectorAll("div.cell_output pre")];
    const outputOverflow = outputs.map(pre => ({over: pre.scrollWidth - pre.clientWidth,
        line: pre.textContent.slice(0, 60)})).filter(out => out.over > 0);
    // package source printed by a cell (inspect.getsource): its longest line fits unwrapped
    const printed = cells.filter(cell => cell.querySelector("div.cell_input").textContent
        .includes("getsource(")).flatMap(cell => [...cell.querySelectorAll("div.cell_output pre")]);
    const sourceTooWide = printed.map(pre => {
        const probe = document.createElement("span");
        probe.textContent = "x".repeat(10);
        probe.style.whiteSpace = "nowrap";
        pre.appendChild(probe);
        const charWidth = probe.getBoundingClientRect().width / 10;
        probe.remove();
        const style = getComputedStyle(pre);
        const room = pre.clientWidth - parseFloat(style.paddingLeft)
            - parseFloat(style.paddingRight);
        const longest = Math.max(...pre.textContent.split("\\n").map(l => l.length));
        return {fits: Math.floor(room / charWidth), longest, line: pre.textContent.slice(0, 60)};
    }).filter(out => out.longest > out.fits);
    return {codeCells: folded, codeOverflow: overflow, outputOverflow, sourceTooWide,
            printedSources: printed.length};
}"""


@pytest.fixture(scope="module")
def browser():
    path = chromium_path()
    if path is None:
        pytest.skip("no chromium: `apt-get install chromium` (make system does it as root)")
    built_pages()  # fails with "run make book" when there is no site
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def pages_seen(browser):
    """Open each page once; return what was found on it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen = {}
    for name in toc_files():
        seen[name] = visit(browser, name)
    return seen


def visit(browser, name):
    if not (HTML / f"{name}.html").exists():
        pytest.fail(f"{name}.html was not built: run `make book`")
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    external, errors = [], []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            return request_route.continue_()
        external.append(url)
        return request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("requestfailed", lambda request: request.url.startswith("file:")
            and not KNOWN_MISSING.search(request.url)
            and errors.append(f"missing file {request.url}"))
    page.goto((HTML / f"{name}.html").as_uri(), wait_until="load")
    page.evaluate("() => window.MathJax && MathJax.startup ? MathJax.startup.promise : null")
    page.evaluate("""async () => {
        for (const img of document.images) { img.loading = "eager"; }
        await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
    }""")
    if page.evaluate('document.querySelector("script[type*=widget-view]") !== null'):
        try:  # the widget manager draws the saved widget states after the page has loaded
            page.wait_for_selector(".jupyter-widgets, .widget-container", timeout=10_000)
        except playwright.TimeoutError:
            pass  # test_widgets_are_drawn reports it
    found = page.evaluate("""() => ({
        math: document.querySelectorAll("div.math, span.math").length,
        typeset: document.querySelectorAll("div.math mjx-container, span.math mjx-container").length,
        images: [...document.querySelectorAll("main img")].map(
            img => ({src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0})),
        widgetModels: document.querySelectorAll(
            'script[type="application/vnd.jupyter.widget-view+json"]').length,
        widgetsDrawn: document.querySelectorAll(".jupyter-widgets, .widget-container").length,
        text: document.querySelector("main") ? document.querySelector("main").innerText : "",
    })""")
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '__')}.png"), full_page=True)
    except Exception:  # very long pages: the top of the page is still worth a look
        page.screenshot(path=str(SCREENSHOTS / f"{name.replace('/', '__')}.png"))
    found.update(page.evaluate(CODE_LAYOUT))
    page.close()
    errors = [e for e in errors if not any(known in e for known in KNOWN_ERRORS)]
    found.update(external=external, errors=errors)
    return found


@pytest.mark.parametrize("name", toc_files())
def test_math_is_typeset(pages_seen, name):
    seen = pages_seen[name]
    assert seen["typeset"] == seen["math"], (
        f"{name}: {seen['math'] - seen['typeset']} of {seen['math']} formulas not typeset "
        "(is MathJax served from book/_vendor?)")


@pytest.mark.parametrize("name", toc_files())
def test_images_load(pages_seen, name):
    broken = [img["src"] for img in pages_seen[name]["images"] if not img["ok"]]
    assert not broken, f"{name}: images that did not load: {broken}"


@pytest.mark.parametrize("name", toc_files())
def test_no_traceback_text(pages_seen, name):
    assert "Traceback (most recent call last)" not in pages_seen[name]["text"], name


@pytest.mark.parametrize("name", toc_files())
def test_widgets_are_drawn(pages_seen, name):
    seen = pages_seen[name]
    if seen["widgetModels"] == 0:
        pytest.skip(f"{name} has no widgets")
    assert seen["widgetsDrawn"] > 0, f"{name}: widget state saved but nothing drawn"


@pytest.mark.parametrize("name", toc_files())
def test_page_works_offline(pages_seen, name):
    seen = pages_seen[name]
    assert not seen["external"], f"{name}: requests that leave the machine: {seen['external']}"
    assert not seen["errors"], f"{name}: JavaScript errors: {seen['errors']}"


def test_the_book_has_figures(pages_seen):
    """The chapters show what they train: at least one figure per notebook chapter."""
    without = [name for name, seen in pages_seen.items()
               if 'class="cell docutils container"' in (HTML / f"{name}.html").read_text()
               and not seen["images"]]
    assert not without, f"notebook chapters without any figure: {without}"


@pytest.mark.parametrize("name", toc_files())
def test_code_cells_fit_the_column(pages_seen, name):
    """At 1280 px no code cell scrolls sideways (book/_vendor/code.css, tests/test_book.py)."""
    wide = pages_seen[name]["codeOverflow"]
    assert not wide, (
        f"{name}: {len(wide)} code cells scroll sideways, e.g. by {wide[0]['over']} px at "
        f"{wide[0]['line'][:60]!r}: keep code lines within 88 columns")


@pytest.mark.parametrize("name", toc_files())
def test_outputs_fit_the_column(pages_seen, name):
    """No output scrolls sideways (long printed lines wrap, book/_vendor/code.css), and the
    package source a chapter prints fits unwrapped."""
    wide, source = pages_seen[name]["outputOverflow"], pages_seen[name]["sourceTooWide"]
    assert not wide, (
        f"{name}: {len(wide)} outputs scroll sideways, e.g. by {wide[0]['over']} px at "
        f"{wide[0]['line']!r}: is book/_vendor/code.css served?")
    notebook = BOOK / f"{name}.ipynb"
    if notebook.exists() and "getsource(" in notebook.read_text():
        assert pages_seen[name]["printedSources"] > 0, f"{name}: no printed source found"
    assert not source, (
        f"{name}: printed package source wraps: {source[0]['longest']} columns where "
        f"{source[0]['fits']} fit, at {source[0]['line']!r}: wrap it to 88 in edu_gen")


@pytest.mark.parametrize("name", toc_files())
def test_setup_cell_folded_checks_shown(pages_seen, name):
    cells = pages_seen[name]["codeCells"]
    if not cells:
        return  # a Markdown page: no code
    assert cells[0]["folded"], f"{name}: the setup cell is shown; tag it hide-input"
    folded_checks = [c for c in cells if c["folded"] and ("claim(" in c["text"] or "assert " in c["text"])]
    assert not folded_checks, f"{name}: {len(folded_checks)} check cells are folded away"
