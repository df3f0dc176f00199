"""Creating commands run once per Idempotency-Key; a retry gets the first answer."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from marketplace.adapters.idempotency import Answer
from marketplace.kernel.errors import Conflict, DomainError
from marketplace.kernel.keys import KeyContext, mint
from marketplace.platform import Marketplace
from marketplace.web.errors import detail_of, status_of

ANONYMOUS = "anonymous"


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
    if len(idempotency_key) > 255:
        raise DomainError("Idempotency-Key must be at most 255 characters")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    store = market.idempotency
    claim = store.begin(full_scope, idempotency_key, digest)
    if isinstance(claim, Answer):
        if anonymous and key_context is not None and claim.status_code < 400:
            raise Conflict(
                "a sign-up was already made with this Idempotency-Key; its API key is given "
                "only in the first answer"
            )
        body = dict(claim.body)
        if api_key is not None and claim.status_code < 400:
            body["api_key"] = api_key
        return JSONResponse(body, status_code=claim.status_code)
    try:
        status, body = run(api_key)
    except DomainError as error:
        store.finish(
            full_scope,
            idempotency_key,
            claim,
            Answer(status_of(error), {"detail": detail_of(error)}),
        )
        raise
    except BaseException:
        store.abandon(full_scope, idempotency_key, claim)
        raise
    kept = {k: v for k, v in body.items() if k != "api_key"}
    store.finish(full_scope, idempotency_key, claim, Answer(status, kept))
    return JSONResponse(body, status_code=status)
