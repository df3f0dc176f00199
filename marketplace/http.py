"""The HTTP application: routers, errors, the position header, idempotent creation."""

import hashlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app

from marketplace.errors import DomainError
from marketplace.idempotency import Answer
from marketplace.keys import KeyContext, mint
from marketplace.platform import Marketplace

log = logging.getLogger(__name__)
POSITION_HEADER = "X-Marketplace-Position"
MAX_BODY = 1 << 20
MAX_IMPORT_BODY = 64 << 20
COMMANDS = {"POST", "PUT", "DELETE", "PATCH"}


def create_app(marketplace: Marketplace, *, start: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if start:
            marketplace.start()
        yield
        if start:
            marketplace.stop()

    app = FastAPI(
        title="B2B Marketplace",
        version="1",
        description="Multi-seller, contract-priced B2B commerce. See api.md for the contract.",
        lifespan=lifespan,
    )
    app.state.marketplace = marketplace

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, error: DomainError) -> JSONResponse:
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)

    @app.exception_handler(IntegrityError)
    async def concurrent_change(_: Request, error: IntegrityError) -> JSONResponse:
        return JSONResponse(
            {"detail": "a concurrent change won; read again and retry"}, status_code=409
        )

    @app.middleware("http")
    async def limits_and_position(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        target = request.scope.get("raw_path", b"") + b"?" + request.scope.get("query_string", b"")
        if b"%00" in target or b"\x00" in target:
            return JSONResponse({"detail": "the URL cannot contain NUL characters"}, 400)
        limit = MAX_IMPORT_BODY if request.url.path.endswith(":import") else MAX_BODY
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > limit:
            return JSONResponse({"detail": f"the body must be at most {limit} bytes"}, 413)
        response = await call_next(request)
        if request.method in COMMANDS and response.status_code < 500:
            if marketplace.in_process:
                marketplace.projections.nudge()
            response.headers[POSITION_HEADER] = await run_in_threadpool(marketplace.position_token)
        return response

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["health"])
    def ready() -> JSONResponse:
        """Readiness: the event store and the views answer."""
        try:
            marketplace.heads()
            marketplace.projections.positions(marketplace.projections.names[0])
        except Exception as error:
            log.warning("not ready: %s", error)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    app.mount("/metrics", make_asgi_app())

    from marketplace.buyers.api import router as buyers_router
    from marketplace.onboarding_api import router as onboarding_router
    from marketplace.operator_api import router as operator_router
    from offers.api import router as offers_router
    from orders.api import router as orders_router
    from projections.api import router as projections_router
    from sellers.api import router as sellers_router

    for router in (
        onboarding_router,
        operator_router,
        sellers_router,
        offers_router,
        buyers_router,
        projections_router,
        orders_router,
    ):
        app.include_router(router)
    return app


def idempotent(
    marketplace: Marketplace,
    request: Request,
    scope: str,
    payload: Any,
    run: Callable[[str | None], tuple[int, dict[str, Any]]],
    key_context: KeyContext | None = None,
) -> JSONResponse:
    """Runs a creating command once per Idempotency-Key; retries get the first answer.

    With `key_context`, the command mints an API key: derived from the Idempotency-Key,
    so a retry can be given the same key though only its hash is stored.
    """
    idempotency_key = request.headers.get("Idempotency-Key")
    full_scope = f"{scope}:{request.method}:{request.url.path}"
    derive = f"{full_scope}:{idempotency_key}" if idempotency_key else None
    api_key = mint(key_context, marketplace.secret, derive) if key_context else None
    if not idempotency_key:
        status, body = run(api_key)
        return JSONResponse(body, status_code=status)
    if len(idempotency_key) > 255:
        raise DomainError("Idempotency-Key must be at most 255 characters")
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    store = marketplace.idempotency
    claim = store.begin(full_scope, idempotency_key, digest)
    if isinstance(claim, Answer):
        body = dict(claim.body)
        if api_key is not None and claim.status_code < 400:
            body["api_key"] = api_key
        return JSONResponse(body, status_code=claim.status_code)
    try:
        status, body = run(api_key)
    except DomainError as error:
        store.finish(
            full_scope, idempotency_key, claim, Answer(error.status_code, {"detail": error.detail})
        )
        raise
    except BaseException:
        store.abandon(full_scope, idempotency_key, claim)
        raise
    kept = {k: v for k, v in body.items() if k != "api_key"}
    store.finish(full_scope, idempotency_key, claim, Answer(status, kept))
    return JSONResponse(body, status_code=status)
