"""Files people upload for an import: NDJSON as it is, or CSV with a header, turned into the
same NDJSON lines the API imports (line numbers kept), spooled with bounded memory."""

import csv
import hashlib
import io
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from uuid import UUID

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from marketplace.kernel.errors import DomainError, Invalid
from marketplace.pages.render import redirect, render
from marketplace.pages.staff import Staff
from marketplace.web.uploads import SPOOL_IN_MEMORY, Upload
from offers.api import MAX_IMPORT_LINES
from offers.domain import ImportJob

CHUNK = 1 << 16
# A CSV row as the API's JSON line; the header's names are its keys.
RowToJson = Callable[[dict[str, str]], dict[str, Any]]


def read_upload(file: UploadFile, max_lines: int, row_to_json: RowToJson) -> Upload:
    name = (file.filename or "").lower()
    if name.endswith((".ndjson", ".jsonl", ".json")):
        return _copied(file.file, max_lines)
    if name.endswith(".csv") or (file.content_type or "").startswith("text/csv"):
        return _from_csv(file.file, max_lines, row_to_json)
    return _copied(file.file, max_lines)


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)


def _copied(source: IO[bytes], max_lines: int) -> Upload:
    out, digest, lines = _spool(), hashlib.sha256(), 0
    source.seek(0)
    while chunk := source.read(CHUNK):
        lines += chunk.count(b"\n")
        if lines > max_lines:
            out.close()
            raise Invalid(f"at most {max_lines} lines per import")
        digest.update(chunk)
        out.write(chunk)
    return Upload(out, digest.hexdigest(), lines)


def _from_csv(source: IO[bytes], max_lines: int, row_to_json: RowToJson) -> Upload:
    source.seek(0)
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    out, digest, lines = _spool(), hashlib.sha256(), 0
    try:
        reader = csv.DictReader(text)
        if not reader.fieldnames:
            raise Invalid("the CSV file has no header line")
        # The header is line 1: a blank line keeps each row's number the file's own.
        out.write(b"\n")
        for row in reader:
            lines += 1
            if lines > max_lines:
                raise Invalid(f"at most {max_lines} lines per import")
            clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
            line = (json.dumps(row_to_json(clean), ensure_ascii=False) + "\n").encode()
            digest.update(line)
            out.write(line)
    except UnicodeDecodeError as error:
        out.close()
        raise Invalid("the file is not UTF-8 text; save it as CSV (UTF-8)") from error
    except csv.Error as error:
        out.close()
        raise Invalid(f"the CSV file cannot be read: {error}") from error
    except Invalid:
        out.close()
        raise
    finally:
        text.detach()
    return Upload(out, digest.hexdigest(), lines + 1)


@dataclass(frozen=True)
class PageImport:
    """An import form: what it imports, how a CSV row becomes a JSON line, how the lines
    are checked, and how the job starts on the good ones."""

    what: str
    action: str  # where the form posts
    back: str  # the list the imported lines land in
    help: str  # what the file holds
    jobs: str  # where the job's page lives, before its id
    row_to_json: RowToJson
    parse: Callable[[Upload], tuple[int, list[dict[str, Any]]]]
    start: Callable[[Upload, tuple[int, list[dict[str, Any]]]], UUID]


def import_form(
    request: Request, staff: Staff, kind: PageImport, error: str | None = None, code: int = 200
) -> Response:
    context = {
        "staff": staff,
        "what": f"{kind.what}s",
        "action": kind.action,
        "back": kind.back,
        "help": kind.help,
        "error": error,
    }
    return render(request, "import_form.html", context, status=code, visitor=staff.visitor)


def job_page(request: Request, staff: Staff, kind: PageImport, job: ImportJob) -> Response:
    """An import job's progress and every line it refused."""
    context = {"staff": staff, "job": job, "back": kind.back, "what": f"{kind.what}s"}
    return render(request, "import_job.html", context, visitor=staff.visitor)


async def imported(request: Request, staff: Staff, kind: PageImport) -> Response:
    """Reads the uploaded file, reports what refuses it as a whole, else starts the job and
    sends the browser to its page."""
    file = (await request.form()).get("file")

    def refused(why: str) -> Response:
        return import_form(request, staff, kind, why, 422)

    if not isinstance(file, UploadFile) or not file.filename:
        return refused("choose a file to import")

    def start() -> UUID:
        upload = read_upload(file, MAX_IMPORT_LINES, kind.row_to_json)
        try:
            parsed = kind.parse(upload)
            if parsed[0] == 0:
                raise Invalid(f"the file holds no {kind.what} lines")
        except BaseException:
            upload.close()
            raise
        return kind.start(upload, parsed)

    try:
        job_id = await run_in_threadpool(start)
    except DomainError as error:
        return refused(str(error.detail))
    return redirect(f"{kind.jobs}/{job_id}")
