"""CSV exports of filtered lists, streamed a page of the view at a time."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from fastapi.responses import StreamingResponse

from marketplace.pages.render import SECURITY_HEADERS

EXPORT_MAX = 100_000


def csv_response(
    filename: str, header: Sequence[str], pages: Iterable[Sequence[Sequence[Any]]]
) -> StreamingResponse:
    """`pages` yields lists of rows; at most EXPORT_MAX rows are written."""

    def chunks() -> Iterator[str]:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        sent = 0
        for rows in pages:
            writer.writerows(list(rows)[: EXPORT_MAX - sent])
            sent += len(rows)
            yield out.getvalue()
            out.seek(0)
            out.truncate()
            if sent >= EXPORT_MAX:
                return
        yield out.getvalue()

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


def amount(money: dict[str, Any]) -> str:
    """Minor units as a decimal amount, the way a spreadsheet reads it."""
    value = int(money["amount"])
    sign = "-" if value < 0 else ""
    return f"{sign}{abs(value) // 100}.{abs(value) % 100:02d}"
