"""Creating commands run once per Idempotency-Key; a retry gets the first answer."""

import hashlib
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

from fastapi import Request
from fastapi.responses import JSONResponse

from marketplace.adapters.idempotency import Answer, IdempotencyStore
from marketplace.kernel.errors import Conflict, DomainError
from marketplace.kernel.keys import KeyContext, mint
from marketplace.platform import Marketplace
from marketplace.web.errors import detail_of, status_of

ANONYMOUS = "anonymous"


KEYED = UUID("5f0c4a52-6c1e-4d0e-9d1a-2b1f1c7e8a10")


def keyed_id(scope: str, request: Request) -> UUID | None:
    """The id of what a request with an Idempotency-Key creates, the same on every retry: a
    retry after a crash that cut off the first answer finds what the first one made."""
    key = request.headers.get("Idempotency-Key")
    if not key:
        return None
    return uuid5(KEYED, f"{scope}:{request.method}:{request.url.path}:{key}")


def idempotent(
    market: Marketplace,
    request: Request,
    scope: str,
    payload: Any,
    run: Callable[[str | None], tuple[int, dict[str, Any]]],
    key_context: KeyContext | None = None,
) -> JSONResponse:
    """Runs a creating command once per Idempotency-Key; retries get the first answer.

    With `key_context`, the command mints an API key: derived from the Idempotency-Key,
    so a retry can be given the same key though only its hash is stored. An anonymous
    caller cannot prove it made the first request (its fields and key may be guessed), so
    its retry is refused rather than given someone's key.
    """
    idempotency_key = request.headers.get("Idempotency-Key")
    full_scope = f"{scope}:{request.method}:{request.url.path}"
    anonymous = scope == ANONYMOUS
    derive = f"{full_scope}:{idempotency_key}" if idempotency_key and not anonymous else None
    api_key = mint(key_context, market.secret, derive) if key_context else None
    if not idempotency_key:
        status, body = run(api_key)
        return JSONResponse(body, status_code=status)
    answer, replayed = run_once(
        market.idempotency, full_scope, idempotency_key, payload, lambda: run(api_key)
    )
    if replayed and anonymous and key_context is not None and answer.status_code < 400:
        raise Conflict(
            "a sign-up was already made with this Idempotency-Key; its API key is given "
            "only in the first answer"
        )
    body = dict(answer.body)
    if api_key is not None and answer.status_code < 400:
        body["api_key"] = api_key
    return JSONResponse(body, status_code=answer.status_code)


def run_once(
    store: IdempotencyStore,
    scope: str,
    key: str,
    payload: Any,
    run: Callable[[], tuple[int, dict[str, Any]]],
) -> tuple[Answer, bool]:
    """The answer of `run`, run once per scope and key whoever asks (the API's
    Idempotency-Key, the pages' checkout form); a refusal is kept and given again like a
    success, and a crash frees the key for a retry. Also says whether it was given again.
    An API key in the answer is never kept."""
    if len(key) > 255:
        raise DomainError("Idempotency-Key must be at most 255 characters")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    claim = store.begin(scope, key, digest)
    if isinstance(claim, Answer):
        return claim, True
    try:
        status, body = run()
    except DomainError as error:
        store.finish(scope, key, claim, Answer(status_of(error), {"detail": detail_of(error)}))
        raise
    except BaseException:
        store.abandon(scope, key, claim)
        raise
    store.finish(
        scope, key, claim, Answer(status, {k: v for k, v in body.items() if k != "api_key"})
    )
    return Answer(status, body), False
