"""The HTTP application: routers, errors, limits and the position header."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from eventsourcing.persistence import IntegrityError
from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import make_asgi_app

from marketplace.buyers.api import router as buyers_router
from marketplace.kernel.errors import DomainError
from marketplace.pages.site import add_pages, invalid_page, is_page, page_error
from marketplace.platform import Marketplace
from marketplace.taxes.api import router as taxes_router
from marketplace.web.answers import EventContract, Health
from marketplace.web.asyncapi import document
from marketplace.web.docs import add_docs
from marketplace.web.einvoices import mail_attachment
from marketplace.web.errors import detail_of, status_of, without_secrets
from marketplace.web.limits import Limits
from marketplace.web.onboarding import router as onboarding_router
from marketplace.web.operator import router as operator_router
from marketplace.web.positions import PositionHeader
from marketplace.webhooks.api import router as webhooks_router
from offers.api import router as offers_router
from orders.api import router as orders_router
from orders.billing.api import router as billing_router
from orders.billing.documents.api import router as documents_router
from orders.conversation.api import router as conversation_router
from orders.quoting.api import router as quotes_router
from projections.api import router as projections_router
from sellers.api import router as sellers_router

log = logging.getLogger(__name__)


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
        docs_url=None,
        redoc_url=None,
    )
    app.state.marketplace = marketplace
    marketplace.mail_attachments = partial(mail_attachment, marketplace)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if is_page(request):
            return await run_in_threadpool(page_error, request, status_of(error), error.detail)
        return JSONResponse({"detail": detail_of(error)}, status_code=status_of(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        if is_page(request):
            return await run_in_threadpool(invalid_page, request, error)
        return JSONResponse({"detail": jsonable_encoder(without_secrets(error.errors()))}, 422)

    @app.exception_handler(IntegrityError)
    async def concurrent_change(request: Request, error: IntegrityError) -> Response:
        detail = "a concurrent change won; read again and retry"
        if is_page(request):
            return await run_in_threadpool(page_error, request, 409, detail)
        return JSONResponse({"detail": detail}, status_code=409)

    @app.get("/health", tags=["health"], response_model=Health)
    def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["health"],
        response_model=Health,
        responses={503: {"model": Health, "description": "a store does not answer"}},
    )
    def ready() -> JSONResponse:
        """Readiness: the event store and the views answer."""
        try:
            marketplace.heads()
            marketplace.projections.positions(marketplace.projections.names[0])
        except Exception as error:
            log.warning("not ready: %s", error)
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/asyncapi.json", tags=["events"], response_model=EventContract)
    def asyncapi() -> dict[str, Any]:
        """The event stream's contract: every event type on every topic (AsyncAPI 3.0)."""
        return document()

    app.mount("/metrics", make_asgi_app())
    app.add_middleware(PositionHeader, marketplace=marketplace)
    app.add_middleware(Limits)

    for router in (
        onboarding_router,
        operator_router,
        sellers_router,
        offers_router,
        buyers_router,
        projections_router,
        orders_router,
        billing_router,
        documents_router,
        quotes_router,
        conversation_router,
        webhooks_router,
        taxes_router,
    ):
        app.include_router(router)
    # After the API: routes are matched in order, one by one, and programs call far more
    # often than people click.
    add_pages(app)
    add_docs(app)
    return app
