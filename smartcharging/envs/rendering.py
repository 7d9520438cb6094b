"""Frames for ``render_mode="rgb_array"``, drawn with NumPy alone (no plotting library).

A :class:`Canvas` fills rectangles and writes numbers in a 3x5 pixel font, enough for the
figures an episode shows: the clock, battery levels against capacity, charging power, costs
and the site's load against its limit. Frames are ``uint8`` arrays of shape
``(height, width, 3)`` with even sides, as video encoders require.
"""

from __future__ import annotations

import numpy as np

Color = tuple[int, int, int]

BACKGROUND: Color = (250, 250, 247)
OUTLINE: Color = (90, 90, 90)
EMPTY: Color = (225, 225, 222)
TEXT: Color = (30, 30, 30)
BATTERY: Color = (46, 160, 67)
POWER: Color = (230, 126, 34)
LIMIT: Color = (200, 40, 40)
TIME: Color = (70, 110, 200)

#: The font: each glyph is 5 rows of 3 pixels ("#" on).
_GLYPHS = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", ".##", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", ".#.", ".#.", ".#."),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ".": ("...", "...", "...", "...", ".#."),
    ":": ("...", ".#.", "...", ".#.", "..."),
    "-": ("...", "...", "###", "...", "..."),
    "+": ("...", ".#.", "###", ".#.", "..."),
    "/": ("..#", "..#", ".#.", "#..", "#.."),
    "%": ("#.#", "..#", ".#.", "#..", "#.#"),
    " ": ("...", "...", "...", "...", "..."),
    "c": ("...", "###", "#..", "#..", "###"),
    "e": ("...", "##.", "###", "#..", ".##"),
    "h": ("#..", "#..", "###", "#.#", "#.#"),
    "i": (".#.", "...", ".#.", ".#.", ".#."),
    "k": ("#..", "#.#", "##.", "#.#", "#.#"),
    "o": ("...", "###", "#.#", "#.#", "###"),
    "s": ("...", "###", "##.", "..#", "###"),
    "t": (".#.", "###", ".#.", ".#.", ".##"),
    "W": ("#.#", "#.#", "#.#", "###", "#.#"),
}
_FONT = {
    char: np.array([[pixel == "#" for pixel in row] for row in rows])
    for char, rows in _GLYPHS.items()
}


class Canvas:
    """An RGB frame to draw on; coordinates are (row, column) pixels from the top left."""

    def __init__(self, height: int, width: int) -> None:
        self.pixels = np.empty((height + height % 2, width + width % 2, 3), dtype=np.uint8)
        self.pixels[:] = BACKGROUND

    def rect(self, top: int, left: int, height: int, width: int, color: Color) -> None:
        """Fill a rectangle (clipped to the frame)."""
        if height > 0 and width > 0:
            self.pixels[max(top, 0) : top + height, max(left, 0) : left + width] = color

    def bar(
        self, top: int, left: int, height: int, width: int, fraction: float, color: Color
    ) -> None:
        """An outlined box filled to ``fraction`` (clipped to 0..1): left to right when it
        is wider than tall, else bottom up."""
        self.rect(top, left, height, width, OUTLINE)
        self.rect(top + 1, left + 1, height - 2, width - 2, EMPTY)
        share = min(max(fraction, 0.0), 1.0) if np.isfinite(fraction) else 0.0
        if width >= height:
            self.rect(top + 1, left + 1, height - 2, round((width - 2) * share), color)
        else:
            filled = round((height - 2) * share)
            self.rect(top + height - 1 - filled, left + 1, filled, width - 2, color)

    def text(self, top: int, left: int, text: str, color: Color = TEXT, scale: int = 2) -> int:
        """Write ``text`` (characters outside the font are left blank); returns the column
        after it."""
        for char in text:
            glyph = _FONT.get(char)
            if glyph is not None:
                block = np.kron(glyph, np.ones((scale, scale), dtype=bool))
                region = self.pixels[top : top + 5 * scale, left : left + 3 * scale]
                region[block[: region.shape[0], : region.shape[1]]] = color
            left += 4 * scale
        return left


def number(value: float) -> str:
    """A short label for a value of any magnitude: ``22``, ``45.3``, ``1.2e+09``."""
    magnitude = abs(value)
    if magnitude >= 1e5 or 0 < magnitude < 1e-2:
        return f"{value:.2g}"
    return f"{value:.3g}" if magnitude < 100 else f"{value:.0f}"
