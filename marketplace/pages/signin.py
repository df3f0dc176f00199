"""Signing in and out, accepting an invitation, and the home page each person lands on."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from marketplace.kernel.errors import DomainError
from marketplace.pages import accounts, catalog
from marketplace.pages.inbox import staff_needs
from marketplace.pages.render import redirect, render
from marketplace.pages.session import (
    CsrfChecked,
    CsrfOrProgram,
    MaybeVisitor,
    end_session,
    safe_next,
    start_session,
)
from marketplace.pages.shopper import shopper_of
from marketplace.pages.staff import staff_of
from marketplace.people.application import TooManyAttempts
from marketplace.web.auth import MarketplaceDep

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=1024)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/")
def home(request: Request, market: MarketplaceDep, visitor: MaybeVisitor) -> Response:
    if visitor is None:
        return redirect("/sign-in")
    kind = visitor.person.principal
    if kind == "sales_rep" and not visitor.session.acting_for:
        return accounts.accounts(request, market, visitor)
    if kind in ("buyer_user", "sales_rep"):
        # The start page is the catalog itself, answered here rather than redirected to.
        return catalog.catalog(request, market, shopper_of(market, visitor))
    staff = staff_of(market, visitor)
    needs = staff_needs(market, staff) if staff else []
    name = staff.account_name if staff else ""
    return render(request, "home.html", {"needs": needs, "account_name": name}, visitor=visitor)


@router.get("/sign-in")
def sign_in_page(request: Request, visitor: MaybeVisitor, next: str | None = None) -> Response:
    if visitor is not None:
        return redirect(safe_next(next))
    return render(request, "sign_in.html", {"next": safe_next(next), "email": ""})


@router.post("/sign-in", dependencies=[CsrfOrProgram])
def sign_in(
    request: Request,
    market: MarketplaceDep,
    email: FormText,
    password: FormText,
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    try:
        person = market.people.sign_in(email, password, client_address(request))
    except DomainError as error:
        status = 429 if isinstance(error, TooManyAttempts) else 401
        return render(
            request,
            "sign_in.html",
            {"next": safe_next(next), "email": email, "error": str(error.detail)},
            status=status,
        )
    response = redirect(safe_next(next))
    start_session(market, request, response, person)
    return response


@router.post("/sign-out", dependencies=[CsrfOrProgram])
def sign_out(request: Request, market: MarketplaceDep) -> Response:
    response = redirect("/sign-in")
    end_session(market, request, response)
    return response


@router.get("/invitations/{token}", name="invitation")
def invitation(request: Request, token: str, market: MarketplaceDep) -> Response:
    try:
        person = market.people.invited(token)
    except DomainError as error:
        return render(request, "error.html", {"error": str(error.detail)}, status=410)
    return render(request, "invitation.html", {"person": person, "token": token})


@router.post("/invitations/{token}", dependencies=[CsrfChecked])
def accept_invitation(
    request: Request,
    token: str,
    market: MarketplaceDep,
    password: FormText,
    password_again: FormText,
) -> Response:
    try:
        person = market.people.invited(token)
    except DomainError as error:
        return render(request, "error.html", {"error": str(error.detail)}, status=410)
    problem = None
    if password != password_again:
        problem = "the two passwords are not the same"
    else:
        try:
            person = market.people.accept(token, password)
        except DomainError as error:
            problem = str(error.detail)
    if problem is not None:
        return render(
            request,
            "invitation.html",
            {"person": person, "token": token, "error": problem},
            status=422,
        )
    response = redirect("/")
    start_session(market, request, response, person)
    return response
