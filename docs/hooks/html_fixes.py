"""MkDocs hook, two fixes of rendered HTML:

* the package's docstrings use Sphinx roles (``:class:`Policy```), which mkdocstrings renders
  literally as ``:class:<code>Policy</code>``: the role is dropped, the code kept;
* a ``|`` inside code in a table cell must be written ``\\|`` in Markdown (as GitHub reads
  it), which Python-Markdown leaves in the code: the backslash is dropped.
"""

import re
from typing import Any

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|mod|data|attr|exc|obj|const):(?=<code)")
CELL = re.compile(r"<td>.*?</td>", re.DOTALL)


def on_page_content(html: str, **kwargs: Any) -> str:
    html = ROLE.sub("", html)
    return CELL.sub(lambda cell: cell.group(0).replace("\\|", "|"), html)
