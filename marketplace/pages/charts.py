"""Bar charts drawn on the server as SVG: no script, readable without one (each chart has
its numbers in a table beside it), and their points are the view's figures as they are."""

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 200
GAP = 4


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    shown: str  # the value as people read it
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0


def bars(points: list[tuple[str, int, str]]) -> list[Bar]:
    """Lays the points out as bars scaled to the largest value."""
    if not points:
        return []
    top = max(value for _, value, _ in points) or 1
    width = WIDTH / len(points)
    laid = []
    for index, (label, value, shown) in enumerate(points):
        height = (HEIGHT - 20) * value / top
        laid.append(
            Bar(label, value, shown, index * width + GAP / 2, HEIGHT - height, width - GAP, height)
        )
    return laid
