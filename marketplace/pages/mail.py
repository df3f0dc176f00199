"""Pages about mail: a forgotten password and its reset, each person's choice of the mail it
gets, and the mail the operator reads when no SMTP server is set (api.md v1.2)."""

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from marketplace.kernel.errors import DomainError, NotFound
from marketplace.kernel.people import MAIL_CATEGORIES
from marketplace.mail.letters import CATEGORY_WORDS
from marketplace.pages.render import redirect, render
from marketplace.pages.session import (
    CsrfChecked,
    CsrfOrProgram,
    MaybeVisitor,
    SignedIn,
    start_session,
)
from marketplace.pages.signin import client_address
from marketplace.pages.staff import Staff, staff
from marketplace.people.application import TooManyAttempts
from marketplace.web.auth import MarketplaceDep

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=1024)]
Operator = Annotated[Staff, Depends(staff("operator", "support"))]
PAGE_SIZE = 50
SENT_NOTICE = (
    "If an account has this email, a link to choose a new password is on its way. "
    "It works once, for one hour."
)
# The mail part shown on its own: nothing in it runs, loads or frames anything.
MAIL_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/forgot-password")
def forgot_page(request: Request, visitor: MaybeVisitor) -> Response:
    return render(request, "forgot_password.html", {"email": ""}, visitor=visitor)


@router.post("/forgot-password", dependencies=[CsrfOrProgram])
def forgot(request: Request, market: MarketplaceDep, email: FormText) -> Response:
    """The same answer whether the email is known or not."""
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return render(
            request,
            "forgot_password.html",
            {"email": email, "error": "this is not an email address like name@example.com"},
            status=422,
        )
    try:
        market.people.ask_reset(address, client_address(request))
    except TooManyAttempts as error:
        return render(
            request, "forgot_password.html", {"email": email, "error": error.detail}, status=429
        )
    return render(request, "forgot_password.html", {"email": "", "sent": SENT_NOTICE})


@router.get("/reset-password")
def reset_page(
    request: Request, market: MarketplaceDep, token: Annotated[str, Query(max_length=500)] = ""
) -> Response:
    try:
        person, _ = market.people.resetting(token)
    except DomainError as error:
        return render(request, "error.html", {"error": str(error.detail)}, status=410)
    return render(request, "reset_password.html", {"person": person, "token": token})


@router.post("/reset-password", dependencies=[CsrfOrProgram])
def reset(
    request: Request,
    market: MarketplaceDep,
    password: FormText,
    token: Annotated[str, Form(max_length=500)] = "",
    password_again: Annotated[str | None, Form(max_length=1024)] = None,
) -> Response:
    """The token comes from the form, or from the link's query when a program posts to it."""
    token = token or request.query_params.get("token", "")[:500]
    try:
        person, _ = market.people.resetting(token)
    except DomainError as error:
        return render(request, "error.html", {"error": str(error.detail)}, status=410)
    problem = None
    if password_again is not None and password != password_again:
        problem = "the two passwords are not the same"
    else:
        try:
            person = market.people.reset(token, password)
        except DomainError as error:
            problem = str(error.detail)
    if problem is not None:
        return render(
            request,
            "reset_password.html",
            {"person": person, "token": token, "error": problem},
            status=422,
        )
    # Every session the person had ends; this browser starts a new one.
    market.web_sessions.close_all(str(person.id))
    response = redirect("/account?notice=Your+password+is+changed")
    start_session(market, request, response, person)
    return response


@router.get("/account")
def account(request: Request, visitor: SignedIn) -> Response:
    return render(
        request,
        "account.html",
        {
            "person": visitor.person,
            "categories": [(c, CATEGORY_WORDS[c]) for c in MAIL_CATEGORIES],
            "off": set(visitor.person.mail_off),
            "notice": request.query_params.get("notice"),
        },
        visitor=visitor,
    )


@router.post("/account/mail", dependencies=[CsrfChecked])
async def account_mail(request: Request, market: MarketplaceDep, visitor: SignedIn) -> Response:
    form = await request.form()
    wanted = {str(c) for c in form.getlist("on")}
    market.people.set_mail_off(visitor.person.id, [c for c in MAIL_CATEGORIES if c not in wanted])
    return redirect("/account?notice=Your+mail+choices+are+saved")


@router.get("/operator/mail")
def mail(
    request: Request,
    market: MarketplaceDep,
    clerk: Operator,
    before: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    items = market.outbox.recent(PAGE_SIZE + 1, before or None)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    return render(
        request,
        "operator_mail.html",
        {
            "items": items,
            "counts": market.outbox.counts(),
            "kept": market.settings.smtp_url is None,
            "next_url": f"/operator/mail?before={items[-1]['created_at']}" if more else None,
        },
        visitor=clerk.visitor,
    )


@router.get("/operator/mail/{message_id}")
def one_mail(
    request: Request, message_id: str, market: MarketplaceDep, clerk: Operator
) -> Response:
    found = market.outbox.one(f"<{message_id}>")
    if found is None:
        raise NotFound("no such mail")
    return render(request, "operator_mail_one.html", {"mail": found}, visitor=clerk.visitor)


@router.get("/operator/mail/{message_id}/html")
def mail_html(message_id: str, market: MarketplaceDep, clerk: Operator) -> Response:
    found = market.outbox.one(f"<{message_id}>")
    if found is None:
        raise NotFound("no such mail")
    return HTMLResponse(found["html_body"], headers=MAIL_HEADERS)
