"""Every Python block of the README runs as printed, each as a script in a fresh process.

Blocks run in the README's order in one working folder (a later block may use a file an
earlier one saved, as a reader would). A block that trains may carry a comment just before
it, ``<!-- readme-test: shorter "TEXT" "REPLACEMENT" -->``, that the test applies to cut
its budget; nothing else is changed.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"
BLOCK = re.compile(r"((?:<!--[^\n]*-->\n)*)```python\n(.*?)```", re.DOTALL)
SHORTER = re.compile(r'<!-- readme-test: shorter "([^"]+)" "([^"]+)" -->')


def readme_blocks() -> list[tuple[int, str]]:
    """``(line, code)`` of every Python block, with its budget cuts applied."""
    text = README.read_text()
    blocks = []
    for match in BLOCK.finditer(text):
        code = match.group(2)
        for old, new in SHORTER.findall(match.group(1)):
            assert old in code, f"README line {text.count(chr(10), 0, match.start()) + 1}: {old!r}"
            code = code.replace(old, new)
        blocks.append((text.count("\n", 0, match.start(2)) + 1, code))
    return blocks


BLOCKS = readme_blocks()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme")


def test_the_readme_has_its_blocks() -> None:
    assert len(BLOCKS) >= 9
    assert any("exact gap to the optimum" in code for _, code in BLOCKS)


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"line-{line}" for line, _ in BLOCKS])
def test_readme_block_runs_as_printed(folder: Path, line: int, code: str) -> None:
    script = folder / f"readme_line_{line}.py"  # a script, as a reader would save it
    script.write_text(code)
    result = subprocess.run(
        [sys.executable, script.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"README block at line {line} failed:\n{result.stderr[-3000:]}"
    if "exact gap to the optimum" in code:
        gap = re.search(r"exact gap to the optimum: (-?[\d.]+)%", result.stdout)
        assert gap is not None and 0.0 <= float(gap.group(1)) < 1e4
