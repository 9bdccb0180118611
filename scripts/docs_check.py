"""Render every page of the built site in headless Chromium, from file://, and check it.

Fails on a console error, an uncaught page error, a request that leaves the disk
(the site must work offline), a broken internal link (an href to a file that
does not exist, or to a folder, which a browser shows as a listing, or to an
#anchor that its target page does not have), and a search from the home page
that finds nothing. Saves a full-page screenshot of
each page. Run it through `make docs-check`, which builds the site first.

The one exception to file://: mkdocs writes 404.html for a web server to send
for any missing path, so its links are absolute from the site's root (/assets/...).
It is rendered, and its links checked, as served from the site's root.

Usage: python scripts/docs_check.py [--chromium PATH] [--width PX] SITE_DIR SHOTS_DIR
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from playwright.sync_api import ConsoleMessage, Error, Page, Route, sync_playwright

# Without these, and a fresh profile, Chromium tries to reach the network on its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# What the page's own scripts get to do after "load" (search index, palette) before we look.
SETTLE_MS = 300

_LINKS_JS = """() => [...document.querySelectorAll('a[href], link[href]')].map(e => [
    e.tagName.toLowerCase(), e.getAttribute('href'), e.href])"""
_IDS_JS = """() => [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.getAttribute('name'))"""
# Tables and code blocks too wide for the content column: the reader must scroll them sideways.
_OVERFLOW_JS = """() => [...document.querySelectorAll('.md-content .md-typeset__scrollwrap, .md-content pre > code')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => (e.tagName === 'CODE' ? 'code' : 'table') + ' ' + (e.scrollWidth - e.clientWidth) + 'px too wide: '
              + e.innerText.trim().slice(0, 50).replace(/\\s+/g, ' '))"""


@dataclass
class PageReport:
    """What one page showed: its problems, its links and its anchors."""

    path: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth a look, but not a failure
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (tag, href as written, resolved URL)
    ids: set[str] = field(default_factory=set)


def served_at_root(site: Path, page: Path) -> bool:
    """Whether `page` is the not-found page that a server sends, whose links start at the site's root."""
    return page == site / "404.html"


def on_disk(site: Path, url: str, root_relative: bool) -> Path | None:
    """The file a file:// URL names (absolute paths mapped into `site` if `root_relative`), or None."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path)).resolve()
    if root_relative and not path.is_relative_to(site):
        path = site / path.relative_to(path.anchor)
    return path


def shot_name(site: Path, page: Path) -> str:
    """`guides/quickstart.html` -> `guides-quickstart.png`."""
    return "-".join(page.relative_to(site).with_suffix("").parts) + ".png"


def render(page: Page, site: Path, path: Path, shots: Path) -> PageReport:
    """Open one page from disk, record what went wrong, and take its screenshot."""
    report = PageReport(path)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            report.problems.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def on_page_error(error: Error) -> None:
        report.problems.append(f"page error: {error.message}")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(SETTLE_MS)
        report.links = [(tag, raw, url) for tag, raw, url in page.evaluate(_LINKS_JS)]
        report.ids = set(page.evaluate(_IDS_JS))
        report.notes += [f"scrolls sideways: {what}" for what in page.evaluate(_OVERFLOW_JS)]
        page.screenshot(path=shots / shot_name(site, path), full_page=True)
    finally:
        page.remove_listener("console", on_console)
        page.remove_listener("pageerror", on_page_error)
    return report


def check_search(page: Page, index: Path, query: str = "idempotency") -> list[str]:
    """Search from the home page, as a reader would; from file:// it needs the offline plugin's shim."""
    page.goto(index.as_uri(), wait_until="load")
    box = page.locator("input[data-md-component=search-query]")
    if box.count() == 0:
        return ["search: the home page has no search box"]
    if not box.is_visible():
        return ["search: the search box is hidden (its index did not load)"]
    box.click()
    page.keyboard.type(query)
    try:
        page.locator(".md-search-result__item").first.wait_for(timeout=5000)
    except Error:
        return [f"search: no result for {query!r} within 5 s"]
    return []


def check_links(site: Path, reports: dict[Path, PageReport]) -> None:
    """Add a problem to each page for each internal link that leads nowhere."""
    for report in reports.values():
        for tag, raw, url in report.links:
            target = on_disk(site, url, served_at_root(site, report.path))
            if target is None:
                continue  # external: not reachable here, and not ours to keep alive
            if not target.is_relative_to(site):
                report.problems.append(f"link out of the site: {raw}")
            elif target.is_dir():
                report.problems.append(f"link to a folder, shown as a listing from disk: {raw}")
            elif not target.is_file():
                report.problems.append(f"link to a missing file: {raw}")
            elif tag == "a" and urlsplit(url).fragment:
                anchor = unquote(urlsplit(url).fragment)
                linked = reports.get(target)
                if linked is None:
                    if target.suffix == ".html":
                        report.problems.append(f"link to a page that was not rendered: {raw}")
                elif anchor not in linked.ids:
                    report.problems.append(f"link to a missing anchor: {raw}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render and check every page of the built site from file://.")
    parser.add_argument("site", type=Path, help="the built site, e.g. site/")
    parser.add_argument("shots", type=Path, help="where the screenshots go (emptied first)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable")
    parser.add_argument("--width", type=int, default=1280, help="viewport width in CSS pixels")
    args = parser.parse_args(argv)

    chromium = shutil.which(args.chromium)
    if chromium is None:
        print(f"docs-check: no Chromium at {args.chromium}: apt-get install chromium (Debian)", file=sys.stderr)
        return 2
    site: Path = args.site.resolve()
    pages = sorted(site.rglob("*.html"))
    if not pages:
        print(f"docs-check: no HTML pages under {site}: build the site first (make docs)", file=sys.stderr)
        return 2
    shots: Path = args.shots
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)

    offsite: list[str] = []
    root_page = (site / "404.html").as_uri()

    def keep_on_disk(route: Route) -> None:
        url = route.request.url
        if url.startswith("file:") and route.request.frame.page.url == root_page:
            path = on_disk(site, url, root_relative=True)
            if path is not None and path.is_file():
                route.fulfill(path=path)
            else:
                route.fulfill(status=404)
        elif url.startswith(("file:", "data:", "blob:", "about:")):
            route.continue_()
        else:
            offsite.append(f"{route.request.frame.url}: requested {route.request.url}")
            route.abort("blockedbyclient")

    reports: dict[Path, PageReport] = {}
    with tempfile.TemporaryDirectory(prefix="docs-check-profile-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=chromium,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": args.width, "height": 800},
            service_workers="block",
        )
        try:
            context.route("**/*", keep_on_disk)
            page = context.new_page()
            for path in pages:
                reports[path] = render(page, site, path, shots)
            search_problems = check_search(page, site / "index.html")
        finally:
            context.close()

    check_links(site, reports)
    failed = False
    for path, report in reports.items():
        name = path.relative_to(site)
        for note in report.notes:
            print(f"{name}: note: {note}")
        for problem in report.problems:
            print(f"{name}: {problem}")
            failed = True
    for problem in search_problems:
        print(problem)
        failed = True
    for request in offsite:
        print(f"left the disk: {request}")
        failed = True
    links = sum(len(report.links) for report in reports.values())
    verdict = "FAILED" if failed else "ok"
    print(f"docs-check: {verdict}: {len(pages)} pages, {links} links checked; screenshots in {shots}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
