"""Figures are saved atomically: an interrupted save keeps the previous figure."""

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from smartcharging import plots


def figure() -> Figure:
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    return fig


def test_a_figure_is_saved_in_its_suffix_format_with_no_temporary_left(tmp_path) -> None:
    plots.save(figure(), tmp_path / "a" / "map.png")
    plots.save(figure(), tmp_path / "a" / "map.svg")
    assert (tmp_path / "a" / "map.png").read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in (tmp_path / "a" / "map.svg").read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["map.png", "map.svg"]


def test_a_save_cut_midway_keeps_the_old_figure_and_no_temporary(tmp_path, monkeypatch) -> None:
    path = tmp_path / "map.png"
    plots.save(figure(), path)
    old = path.read_bytes()

    def half_then_fail(self, fname, **kwargs) -> None:
        with open(fname, "wb") as file:
            file.write(b"\x89PNG half")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", half_then_fail)
    with pytest.raises(KeyboardInterrupt):
        plots.save(figure(), path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["map.png"]
    assert plt.get_fignums() == []
