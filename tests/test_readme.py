"""The README's newcomer snippet runs as printed (with fewer training steps)."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def test_readme_snippet_trains_and_reports_an_exact_gap() -> None:
    text = README.read_text()
    match = re.search(r"<!-- readme-snippet -->\n```python\n(.*?)```", text, re.DOTALL)
    assert match is not None, "README lost its <!-- readme-snippet --> block"
    code = match.group(1)
    assert "total_timesteps=50_000" in code
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.replace("total_timesteps=50_000", "total_timesteps=4_096"), {})
    gap = float(re.search(r"exact gap to the optimum: (-?[\d.]+)%", out.getvalue()).group(1))
    assert 0.0 <= gap < 1e4
