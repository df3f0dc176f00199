"""The pages mounted on the application: routers, static files, and errors as pages."""

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from marketplace.kernel.errors import DomainError
from marketplace.pages import (
    accounts,
    billing,
    billing_office,
    budgets,
    cart,
    catalog,
    commission_invoices,
    conversation,
    lists,
    mail,
    manufacturer,
    operator,
    orders,
    quotes,
    reseller,
    seller_orders,
    signin,
    tax,
    team,
    users,
    webhooks,
)
from marketplace.pages.render import HERE, redirect, render
from marketplace.pages.session import SignInNeeded, current_visitor, sign_in_url
from marketplace.pages.shopper import NotShopping, shopper_of

NOT_PAGES = ("/v1/", "/health", "/ready", "/metrics", "/asyncapi", "/docs", "/redoc", "/openapi")
TITLES = {403: "Not allowed", 404: "Not found", 409: "Not possible now", 422: "Not accepted"}


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(NOT_PAGES)


def page_error(request: Request, status: int, detail: object) -> Response:
    """A refusal as a page with the same status the API would give, in a sentence."""
    visitor = current_visitor(request, request.app.state.marketplace)
    shopper = None
    if visitor is not None:
        try:
            shopper = shopper_of(request.app.state.marketplace, visitor)
        except DomainError:
            shopper = None
    if isinstance(detail, list):
        detail = "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail)
    return render(
        request,
        "error.html",
        {"error": str(detail), "title": TITLES.get(status)},
        status=status,
        visitor=visitor,
        shopper=shopper,
    )


def add_pages(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (
        signin,
        conversation,
        mail,
        catalog,
        cart,
        orders,
        lists,
        quotes,
        billing,
        budgets,
        users,
        accounts,
        seller_orders,
        manufacturer,
        reseller,
        operator,
        billing_office,
        commission_invoices,
        tax,
        team,
        webhooks,
    ):
        app.include_router(module.router)

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, _: SignInNeeded) -> Response:
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": sign_in_url(request)})
        return redirect(sign_in_url(request))

    @app.exception_handler(NotShopping)
    async def not_shopping(request: Request, error: NotShopping) -> Response:
        visitor = await run_in_threadpool(current_visitor, request, request.app.state.marketplace)
        if visitor is not None and visitor.person.principal == "sales_rep":
            return redirect("/accounts")
        return await run_in_threadpool(page_error, request, 403, error.detail)


def invalid_page(request: Request, error: RequestValidationError) -> Response:
    problems = [f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in error.errors()]
    return page_error(request, 422, "; ".join(problems) or "the request is not valid")
