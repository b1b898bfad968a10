"""The documentation renders what it says: no raw Sphinx roles, nothing fetched from the network.

The API reference is built by mkdocstrings, which reads Markdown cross-references
(``[`Timeline`][csmkit.timeline.Timeline]``), not Sphinx roles (``:class:`Timeline```): a role
in a docstring would be shown to readers as literal text. The built site must also work
offline (behind a corporate proxy, or with no network at all), so no page may load a script,
stylesheet, image or font from another host; plain links to other sites are fine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROLE = re.compile(r":(?:py:)?(?:func|class|meth|mod|attr|exc|data|obj|const|ref):`")


def _external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) or parts.scheme in {"http", "https", "ftp"}


class _Fetches(HTMLParser):
    """Collects every URL a browser would fetch while loading a page (not plain links)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        media = {"script", "img", "iframe", "source", "audio", "video", "embed", "track"}
        if tag in media and values.get("src"):
            self.urls.append(values["src"])
        if tag == "link" and values.get("href"):
            rel = set(values.get("rel", "").lower().split())
            if rel & {"stylesheet", "icon", "preload", "prefetch", "modulepreload", "manifest"}:
                self.urls.append(values["href"])
        if tag == "object" and values.get("data"):
            self.urls.append(values["data"])


def external_fetches(html: str) -> list[str]:
    parser = _Fetches()
    parser.feed(html)
    # url(...) and @import in <style> blocks and style="" attributes alike
    css = re.findall(r"@import\s+['\"]([^'\"]+)|url\(\s*['\"]?([^'\")]+)", html)
    urls = parser.urls + [a or b for a, b in css]
    return [url for url in urls if _external(url)]


def test_the_fetch_check_has_teeth() -> None:
    page = (
        '<script src="https://cdn.example/x.js"></script><script src="js/local.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css"><a href="https://example.org">ok</a>'
        '<img src="img/a.png"><div style="background: url(\'http://x.example/b.png\')"></div>'
    )
    assert external_fetches(page) == [
        "https://cdn.example/x.js",
        "//fonts.example/css",
        "http://x.example/b.png",
    ]


def test_no_sphinx_roles_in_docstrings_or_pages() -> None:
    found = []
    for path in [*sorted((ROOT / "src").rglob("*.py")), *sorted((ROOT / "docs").rglob("*.md"))]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if ROLE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, (
        "Sphinx roles do not render in MkDocs; `PYTHONPATH=src python tools/convert_roles.py` "
        "rewrites them:\n" + "\n".join(found)
    )


def test_the_role_check_has_teeth() -> None:
    assert ROLE.search("see :class:`Timeline` and :meth:`Workflow.fire`")
    assert not ROLE.search("see [`Timeline`][csmkit.timeline.Timeline]")


@pytest.mark.slow
def test_the_built_site_fetches_nothing_from_the_network(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the docs extra is not installed")
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "--site-dir", str(site)],
        cwd=ROOT,
        check=True,
    )
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    problems: dict[str, list[str]] = {}
    for page in pages:
        html = page.read_text(encoding="utf-8")
        urls = external_fetches(html)
        if urls:
            problems[str(page.relative_to(site))] = urls
        assert not ROLE.search(html), f"{page}: a raw Sphinx role was rendered"
    for sheet in site.rglob("*.css"):
        found = re.findall(r"url\(\s*['\"]?([^'\")]+)", sheet.read_text(encoding="utf-8"))
        urls = [url for url in found if _external(url)]
        if urls:
            problems[str(sheet.relative_to(site))] = urls
    assert not problems, problems
    # the diagrams' renderer is part of the site itself
    assert (site / "js" / "vendor" / "mermaid.min.js").stat().st_size > 1_000_000
