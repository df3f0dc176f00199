"""Bar charts drawn on the server as SVG: no script, readable without one (each chart has
its numbers in a table beside it), and their points are the view's figures as they are.
Each has a value axis (zero, half and the top, in the chart's unit) and its bars named
below them: days by date, sellers by name."""

from collections.abc import Callable
from dataclasses import dataclass, field

WIDTH = 640
HEIGHT = 240
LEFT = 84  # room for the value axis's labels
BOTTOM = 44  # room for the bars' names
RIGHT = 40  # room for the last name, centred under the last bar
TOP = 12
GAP = 4
PLOT = HEIGHT - TOP - BOTTOM
CHAR = 6.5  # the width a character of an axis label takes, at its font size


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as people read it
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


@dataclass(frozen=True)
class Tick:
    at: float  # x for a bar's name, y for a value
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    values: list[Tick] = field(default_factory=list)
    names: list[Tick] = field(default_factory=list)
    left: int = LEFT
    base: int = TOP + PLOT
    right: int = WIDTH - RIGHT


def _short(label: str, room: float) -> str:
    """The label cut to the room it has below its bar (the table beside holds it whole)."""
    most = max(int(room / CHAR), 4)
    return label if len(label) <= most else label[: most - 1] + "…"


def bars(
    points: list[tuple[str, int, str]], unit: Callable[[int], str] = str, name_every: int = 1
) -> Chart:
    """Lays the points out as bars scaled to the largest value; `unit` writes an axis value,
    and every `name_every`th bar counted back from the last (always named) is named below."""
    if not points:
        return Chart([])
    top = max(value for _, value, _ in points) or 1
    width = (WIDTH - LEFT - RIGHT) / len(points)
    laid, names = [], []
    for index, (label, value, shown) in enumerate(points):
        height = PLOT * value / top
        x = LEFT + index * width
        laid.append(Bar(label, value, shown, x + GAP / 2, TOP + PLOT - height, width - GAP, height))
        if (len(points) - 1 - index) % name_every == 0:
            names.append(Tick(x + width / 2, _short(label, width * name_every)))
    values = [Tick(TOP + PLOT - PLOT * share, unit(round(top * share))) for share in (0, 0.5, 1)]
    return Chart(laid, values, names)
