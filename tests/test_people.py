"""People sign in as people: accounts with email and password, sessions, CSRF, refusals
after repeated failures, invitations, and the same rights as the API on every page."""

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from marketplace.platform import Marketplace
from marketplace.web.app import create_app
from tests.world import Actor, World, eur, small_market

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)
PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]{64})"')


def csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, **extra: str) -> Any:
    token = csrf(client, "/sign-in")
    return client.post(
        "/sign-in",
        data={"csrf_token": token, "email": email, "password": password, **extra},
        follow_redirects=False,
    )


def buyer_with_person(world: World, name: str, email: str) -> Actor:
    created = world.ok(
        "POST",
        "/v1/buyers",
        json={
            "legal_name": name,
            "tax_id": "DE1",
            "country": "DE",
            "email": email,
            "password": PASSWORD,
        },
    )
    world.ok("POST", f"/v1/operator/accounts/{created['id']}/approve", world.operator)
    return Actor(created["id"], created["api_key"], created["user_id"])


def browser(marketplace: Marketplace) -> TestClient:
    return TestClient(create_app(marketplace, start=False))


def test_a_person_signs_up_with_an_email_and_signs_in(
    world: World, marketplace: Marketplace
) -> None:
    buyer_with_person(world, "Muster GmbH", "Anna@Muster.example")
    with browser(marketplace) as web:
        assert web.get("/", follow_redirects=False).headers["location"] == "/sign-in"
        answer = sign_in(web, "anna@muster.example")
        assert answer.status_code == 303, answer.text
        cookie = answer.headers["set-cookie"]
        assert "mp_session=" in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        start = web.get("/", follow_redirects=False)
        assert start.status_code == 200
        assert "<h1>Catalog</h1>" in start.text
        page = web.get("/catalog")
        assert page.status_code == 200
        assert "Content-Security-Policy" in page.headers


def test_an_email_in_use_is_a_409_and_changes_nothing(
    world: World, marketplace: Marketplace
) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    before = marketplace.heads()
    again = world.call(
        "POST",
        "/v1/resellers",
        json={
            "name": "Rhine",
            "kind": "reseller",
            "country": "DE",
            "email": "ANNA@muster.example",
            "password": PASSWORD,
        },
    )
    assert again.status_code == 409, again.text
    assert "anna@muster.example" in again.json()["detail"]
    assert marketplace.heads() == before


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"email": "anna@muster.example", "password": "short"}, "at least 12"),
        ({"email": "anna@muster.example"}, "password"),
        ({"password": PASSWORD}, "email"),
        ({"email": "not an email", "password": PASSWORD}, "email"),
    ],
)
def test_bad_people_fields_are_a_422(
    world: World, marketplace: Marketplace, extra: dict[str, str], problem: str
) -> None:
    before = marketplace.heads()
    answer = world.call(
        "POST", "/v1/manufacturers", json={"name": "Acme", "country": "DE", **extra}
    )
    assert answer.status_code == 422, answer.text
    assert problem in answer.text
    assert PASSWORD not in answer.text
    assert marketplace.heads() == before


def test_operator_and_seller_people_sign_in_with_their_roles(
    world: World, marketplace: Marketplace
) -> None:
    rhine = world.reseller("Rhine")
    made = world.ok(
        "POST",
        "/v1/operator/users",
        world.operator,
        json={"name": "Olga", "email": "olga@ops.example", "password": PASSWORD, "role": "support"},
    )
    assert set(made) == {"id"}
    world.ok(
        "POST",
        "/v1/seller/users",
        rhine,
        json={"name": "Sam", "email": "sam@rhine.example", "password": PASSWORD, "role": "orders"},
    )
    refused = world.call(
        "POST",
        "/v1/operator/users",
        rhine,
        json={"name": "X", "email": "x@rhine.example", "password": PASSWORD, "role": "admin"},
    )
    assert refused.status_code == 403
    bad_role = world.call(
        "POST",
        "/v1/seller/users",
        rhine,
        json={"name": "Y", "email": "y@rhine.example", "password": PASSWORD, "role": "support"},
    )
    assert bad_role.status_code == 422
    for email, shown in (("olga@ops.example", "(support)"), ("sam@rhine.example", "(orders)")):
        with browser(marketplace) as web:
            assert sign_in(web, email).status_code == 303
            home = web.get("/")
            assert home.status_code == 200
            assert shown in home.text
            # The storefront is for buyers and their sales reps.
            assert web.get("/catalog").status_code == 403


def test_repeated_failures_refuse_the_account_even_with_the_right_password(
    world: World, marketplace: Marketplace
) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    buyer_with_person(world, "Bolt Works", "bob@bolt.example")
    with browser(marketplace) as web:
        for _ in range(5):
            wrong = sign_in(web, "anna@muster.example", "wrong password!!")
            assert wrong.status_code == 401
            assert "the email or the password is not right" in wrong.text.lower()
        locked = sign_in(web, "anna@muster.example")
        assert locked.status_code == 429
        assert "too many failed sign-ins" in locked.text.lower()
        assert "mp_session" not in locked.headers.get("set-cookie", "")
        # Another account from the same address is not locked by these five.
        assert sign_in(web, "bob@bolt.example").status_code == 303


def test_an_unknown_email_is_refused_as_a_wrong_password_is(
    world: World, marketplace: Marketplace
) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    with browser(marketplace) as web:
        unknown = sign_in(web, "nobody@muster.example")
        wrong = sign_in(web, "anna@muster.example", "wrong password!!")
        assert unknown.status_code == wrong.status_code == 401
        assert "the email or the password is not right" in unknown.text.lower()


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(
    world: World, marketplace: Marketplace
) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    with browser(marketplace) as web:
        # What another site's page would send: its own origin, no token.
        forged = {"Origin": "https://evil.example"}
        no_token = web.post(
            "/sign-in",
            data={"email": "anna@muster.example", "password": PASSWORD},
            headers=forged,
        )
        assert no_token.status_code == 403
        assert "mp_session" not in no_token.headers.get("set-cookie", "")
        referred = web.post(
            "/sign-in",
            data={"email": "anna@muster.example", "password": PASSWORD},
            headers={"Referer": "https://evil.example/page"},
        )
        assert referred.status_code == 403
        assert sign_in(web, "anna@muster.example").status_code == 303
        before = marketplace.heads()
        forged_out = web.post("/sign-out", headers=forged, follow_redirects=False)
        assert forged_out.status_code == 403
        wrong = web.post("/sign-out", data={"csrf_token": "0" * 64}, follow_redirects=False)
        assert wrong.status_code == 403
        assert "did not come from this page" in wrong.text
        no_token_change = web.post(
            "/cart/lines", data={"product_id": str(uuid.uuid4()), "quantity": "1"}
        )
        assert no_token_change.status_code == 403
        assert web.get("/catalog").status_code == 200
        assert marketplace.heads() == before


def test_signing_out_ends_the_session_on_the_server(world: World, marketplace: Marketplace) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    with browser(marketplace) as web:
        sign_in(web, "anna@muster.example")
        stolen = web.cookies.get("mp_session")
        assert stolen
        token = csrf(web, "/catalog")
        out = web.post("/sign-out", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
    with browser(marketplace) as thief:
        thief.cookies.set("mp_session", stolen)
        assert thief.get("/catalog", follow_redirects=False).status_code == 303


def test_a_program_signs_in_and_out_with_the_form_fields_alone(
    world: World, marketplace: Marketplace
) -> None:
    """No browser, so no cross-site forgery to fear: api.md's fields suffice."""
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    with browser(marketplace) as program:
        signed = program.post(
            "/sign-in",
            data={"email": "anna@muster.example", "password": PASSWORD},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        home = program.get("/")
        assert home.status_code == 200
        assert home.headers["content-type"].startswith("text/html")
        assert program.post("/sign-out", follow_redirects=False).status_code == 303
        assert program.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_sign_in_never_redirects_to_another_site(world: World, marketplace: Marketplace) -> None:
    buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    with browser(marketplace) as web:
        for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
            answer = sign_in(web, "anna@muster.example", next=target)
            assert answer.headers["location"] == "/"


def test_an_invited_person_sets_a_password_once(world: World, marketplace: Marketplace) -> None:
    admin = buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    made = world.ok(
        "POST",
        "/v1/buyer/users",
        admin,
        json={"name": "Ben", "role": "buyer", "email": "ben@muster.example"},
    )
    link = made["invitation_url"]
    path = link[link.index("/invitations/") :]
    with browser(marketplace) as web:
        form = web.get(path)
        assert form.status_code == 200
        assert "ben@muster.example" in form.text
        token = TOKEN.search(form.text)
        assert token
        mismatch = web.post(
            path,
            data={"csrf_token": token.group(1), "password": PASSWORD, "password_again": "other"},
        )
        assert mismatch.status_code == 422
        assert "not the same" in mismatch.text
        done = web.post(
            path,
            data={"csrf_token": token.group(1), "password": PASSWORD, "password_again": PASSWORD},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert web.get("/catalog").status_code == 200
    with browser(marketplace) as web:
        assert web.get(path).status_code == 410
        assert sign_in(web, "ben@muster.example").status_code == 303
        forged = web.get(path[:-4] + "AAAA")
        assert forged.status_code == 410


def _market_with_order(world: World) -> tuple[Actor, Actor, str]:
    market = small_market(world)
    product = world.product(market.acme, "BOLT-1")
    world.offer(market.rhine, product, 1_000)
    world.terms(market.rhine, market.muster)
    order = world.ok(
        "POST",
        "/v1/buyer/orders",
        market.muster,
        json={"lines": [{"product_id": product, "quantity": 1}], "payment_method": "card"},
    )
    return market.muster, market.bolt, order["order_id"]


def test_a_person_cannot_open_another_companys_order(
    world: World, marketplace: Marketplace
) -> None:
    _, bolt, order_id = _market_with_order(world)
    world.ok(
        "POST",
        "/v1/buyer/users",
        bolt,
        json={"name": "Bob", "role": "admin", "email": "bob@bolt.example", "password": PASSWORD},
    )
    with browser(marketplace) as web:
        sign_in(web, "bob@bolt.example")
        other = web.get(f"/orders/{order_id}")
        assert other.status_code == 404
        assert "Split into" not in other.text
        assert "Rhine Supply" not in other.text
        assert web.get("/orders/not-a-uuid").status_code == 422


def test_a_disabled_user_cannot_sign_in_and_its_key_stops(
    world: World, marketplace: Marketplace
) -> None:
    admin = buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    made = world.ok(
        "POST",
        "/v1/buyer/users",
        admin,
        json={"name": "Ben", "role": "buyer", "email": "ben@muster.example", "password": PASSWORD},
    )
    ben = Actor(admin.id, made["api_key"], made["id"])
    # Used once, so the process knows whose key it is before the user is disabled.
    assert world.call("GET", "/v1/buyer/orders", ben).status_code == 200
    with browser(marketplace) as bens:
        sign_in(bens, "ben@muster.example")
        assert bens.get("/catalog").status_code == 200
        assert bens.get("/users").status_code == 403
        with browser(marketplace) as annas:
            sign_in(annas, "anna@muster.example")
            token = csrf(annas, "/users")
            done = annas.post(
                f"/users/{ben.user_id}/disable",
                data={"csrf_token": token},
                follow_redirects=False,
            )
            assert done.status_code == 303
            assert "disabled" in annas.get("/users").text
        assert bens.get("/catalog", follow_redirects=False).status_code == 303
    with browser(marketplace) as web:
        assert sign_in(web, "ben@muster.example").status_code == 401
    assert world.call("GET", "/v1/buyer/orders", ben).status_code == 403


def test_an_admin_changes_a_role_and_limit_but_not_its_own_admin_role(
    world: World, marketplace: Marketplace
) -> None:
    admin = buyer_with_person(world, "Muster GmbH", "anna@muster.example")
    made = world.ok("POST", "/v1/buyer/users", admin, json={"name": "Ben", "role": "buyer"})
    with browser(marketplace) as web:
        sign_in(web, "anna@muster.example")
        token = csrf(web, "/users")
        changed = web.post(
            f"/users/{made['id']}",
            data={"csrf_token": token, "role": "approver", "limit": "2500.50", "currency": "EUR"},
            follow_redirects=False,
        )
        assert changed.status_code == 303
        bad = web.post(
            f"/users/{made['id']}",
            data={"csrf_token": token, "role": "buyer", "limit": "12.345", "currency": "EUR"},
        )
        assert bad.status_code == 422
        assert "at most two decimals" in bad.text
        own = web.post(
            f"/users/{admin.user_id}",
            data={"csrf_token": token, "role": "buyer", "limit": "", "currency": "EUR"},
        )
        assert own.status_code == 422
        assert "admin role from yourself" in own.text
    user = marketplace.buyers.buyer(__import__("uuid").UUID(admin.id)).users
    ben = next(u for u in user.values() if u.name == "Ben")
    assert (ben.role, ben.spending_limit and ben.spending_limit.as_dict()) == (
        "approver",
        eur(250_050),
    )


def test_a_sales_rep_shops_only_for_its_assigned_accounts(
    world: World, marketplace: Marketplace
) -> None:
    market = small_market(world)
    world.terms(market.rhine, market.muster)
    world.terms(market.rhine, market.bolt)
    rep = world.ok(
        "POST",
        "/v1/reseller/sales-reps",
        market.rhine,
        json={"name": "Erika", "email": "erika@rhine.example", "password": PASSWORD},
    )
    world.ok(
        "PUT",
        f"/v1/reseller/sales-reps/{rep['id']}/accounts",
        market.rhine,
        json={"buyer_ids": [market.muster.id]},
    )
    with browser(marketplace) as web:
        sign_in(web, "erika@rhine.example")
        assert "Accounts assigned to Erika" in web.get("/", follow_redirects=False).text
        assert web.get("/catalog", follow_redirects=False).headers["location"] == "/accounts"
        token = csrf(web, "/accounts")
        refused = web.post(f"/accounts/{market.bolt.id}/act", data={"csrf_token": token})
        assert refused.status_code == 403
        acting = web.post(
            f"/accounts/{market.muster.id}/act", data={"csrf_token": token}, follow_redirects=False
        )
        assert acting.headers["location"] == "/catalog"
        page = web.get("/catalog")
        assert "on behalf of" in page.text
        assert "Muster GmbH" in page.text
        assert web.get("/approvals").status_code == 403
        assert web.get("/users").status_code == 403
