"""Bulk bodies spooled to a temporary file as they arrive: memory stays bounded whatever the
file, the line limit is enforced while reading, and a client gone mid-upload leaves nothing."""

import hashlib
import tempfile
from collections.abc import Iterator
from typing import IO

from fastapi import Request
from starlette.requests import ClientDisconnect

from marketplace.kernel.errors import Invalid

# Kept in memory up to this size, on disk beyond it.
SPOOL_IN_MEMORY = 1 << 20
MAX_LINE = 64 << 10


class Gone(Exception):
    """The client left before its body arrived in full."""


class Upload:
    def __init__(self, file: IO[bytes], sha256: str, lines: int) -> None:
        self.file = file
        self.sha256 = sha256
        self.lines = lines

    def numbered(self) -> Iterator[tuple[int, str | None]]:
        """Each non-blank line with its number; None for a line too long."""
        self.file.seek(0)
        number = 0
        while True:
            raw = self.file.readline(MAX_LINE + 1)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                while (rest := self.file.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            try:
                text = raw.decode()
            except UnicodeDecodeError as error:
                raise Invalid(f"the body must be UTF-8 NDJSON (line {number} is not)") from error
            if text.strip():
                yield number, text

    def close(self) -> None:
        self.file.close()


async def spool(request: Request, max_lines: int) -> Upload:
    """Reads the body into a temporary file; more than `max_lines` lines is refused at once."""
    file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    newlines = 0
    last = b""
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
            if newlines > max_lines:
                raise Invalid(f"at most {max_lines} lines per import")
            digest.update(chunk)
            file.write(chunk)
    except ClientDisconnect as gone:
        file.close()
        raise Gone from gone
    except BaseException:
        file.close()
        raise
    lines = newlines + (1 if last and last != b"\n" else 0)
    if lines > max_lines:
        file.close()
        raise Invalid(f"at most {max_lines} lines per import")
    return Upload(file, digest.hexdigest(), lines)
