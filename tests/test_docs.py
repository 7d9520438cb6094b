"""The README's links into the docs resolve, and the site's navigation names every page.

``make docs`` (part of ``make test``) builds the site with ``mkdocs build --strict``, which
checks the links inside ``docs/``; the README is not part of the site, so its links are
checked here.
"""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def nav_pages(entries: list) -> list[str]:
    pages = []
    for entry in entries:
        for value in entry.values() if isinstance(entry, dict) else [entry]:
            pages += nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_the_readme_links_resolve() -> None:
    targets = [t for t in LINK.findall((ROOT / "README.md").read_text()) if "://" not in t]
    assert any(target.startswith("docs/") for target in targets)
    for target in targets:
        path = target.split("#")[0]
        assert (ROOT / path).exists(), f"README.md links to {target}, which does not exist"


def test_the_navigation_names_every_page_and_only_existing_ones() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    pages = nav_pages(config["nav"])
    for page in pages:
        assert (ROOT / "docs" / page).is_file(), f"mkdocs.yml names {page}, which does not exist"
    on_disk = {path.relative_to(ROOT / "docs").as_posix() for path in (ROOT / "docs").rglob("*.md")}
    assert on_disk == set(pages)
    assert config["strict"] is True
