"""Every Python block of the README and of the docs runs as printed, each as a script in a
fresh process.

Each page's blocks run in the page's order in one working folder of that page (a later block
may use a file an earlier one saved, as a reader would). A block that trains may carry a
comment just before it, ``<!-- readme-test: shorter "TEXT" "REPLACEMENT" -->``, that the test
applies to cut its budget; nothing else is changed.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
BLOCK = re.compile(r"((?:<!--[^\n]*-->\n)*)```python\n(.*?)```", re.DOTALL)
SHORTER = re.compile(r'<!-- readme-test: shorter "([^"]+)" "([^"]+)" -->')
FENCE = re.compile(r"^ *(```+|~~~+) *([^\s`]*)", re.MULTILINE)


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def page_blocks(page: Path) -> list[tuple[int, str]]:
    """``(line, code)`` of every Python block of ``page``, with its budget cuts applied."""
    text = page.read_text()
    blocks = []
    for match in BLOCK.finditer(text):
        code = match.group(2)
        for old, new in SHORTER.findall(match.group(1)):
            line = text.count("\n", 0, match.start()) + 1
            assert old in code, f"{name(page)} line {line}: {old!r} is not in the block"
            code = code.replace(old, new)
        blocks.append((text.count("\n", 0, match.start(2)) + 1, code))
    return blocks


BLOCKS = [(page, line, code) for page in PAGES for line, code in page_blocks(page)]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """One working folder per page, shared by that page's blocks."""
    return {page: tmp_path_factory.mktemp(page.stem) for page in PAGES}


def test_the_pages_have_their_blocks() -> None:
    assert len(BLOCKS) >= 11
    assert any(page == README for page, _, _ in BLOCKS)
    assert any("exact gap to the optimum" in code for _, _, code in BLOCKS)
    assert any("evaluate_policy" in code for page, _, code in BLOCKS if page == README)


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_python_block_is_one_the_test_runs(page: Path) -> None:
    """A Python block fenced as ``py``, ``python3`` or ``pycon``, or indented, would be skipped
    silently: only ```` ```python ```` blocks (and other languages) are allowed."""
    for match in FENCE.finditer(page.read_text()):
        language = match.group(2).lower()
        line = page.read_text().count("\n", 0, match.start()) + 1
        assert language in {"", "python"} or not language.startswith("py"), (
            f"{name(page)} line {line}: fence it as ```python so that tests/test_readme.py runs it"
        )


@pytest.mark.parametrize(
    ("page", "line", "code"), BLOCKS, ids=[f"{name(page)}:{line}" for page, line, _ in BLOCKS]
)
def test_block_runs_as_printed(folders: dict[Path, Path], page: Path, line: int, code: str) -> None:
    folder = folders[page]
    script = folder / f"{page.stem}_line_{line}.py"  # a script, as a reader would save it
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"{name(page)} block at line {line} failed:\n{result.stderr[-3000:]}"
    )
    if "exact gap to the optimum" in code:
        gap = re.search(r"exact gap to the optimum: (-?[\d.]+)%", result.stdout)
        assert gap is not None and 0.0 <= float(gap.group(1)) < 1e4
