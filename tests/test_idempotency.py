"""A retried creating POST with the same Idempotency-Key creates nothing new."""

import pytest

from marketplace.platform import Marketplace
from tests.world import Actor, World

pytestmark = pytest.mark.parametrize("settings", ["sqlite", "postgres"], indirect=True)


def test_a_repeated_signup_creates_nothing_and_gives_no_one_the_first_key(
    world: World, marketplace: Marketplace
) -> None:
    body = {"name": "Acme", "country": "DE"}
    headers = {"Idempotency-Key": "signup-1"}
    first = world.call("POST", "/v1/manufacturers", json=body, headers=headers)
    assert first.status_code == 201
    heads = marketplace.heads()
    # Anyone can send the same public fields with a guessable key: no key for them.
    again = world.call("POST", "/v1/manufacturers", json=body, headers=headers)
    assert again.status_code == 409
    assert first.json()["api_key"] not in again.text
    assert "api_key" not in again.json()
    assert marketplace.heads() == heads
    acme = Actor(first.json()["id"], first.json()["api_key"])
    world.ok("POST", f"/v1/operator/accounts/{acme.id}/approve", world.operator)
    assert world.call("GET", "/v1/manufacturer/products", acme).status_code == 200


def test_a_users_retried_creation_gives_the_same_key_to_the_same_admin(
    world: World, marketplace: Marketplace
) -> None:
    admin = world.buyer()
    body = {"name": "Ana", "role": "buyer"}
    headers = {"Idempotency-Key": "user-1"}
    first = world.ok("POST", "/v1/buyer/users", admin, json=body, headers=headers)
    heads = marketplace.heads()
    again = world.ok("POST", "/v1/buyer/users", admin, json=body, headers=headers)
    assert again == first
    assert marketplace.heads() == heads


def test_the_same_key_with_another_body_is_a_conflict(
    world: World, marketplace: Marketplace
) -> None:
    headers = {"Idempotency-Key": "signup-2"}
    world.call(
        "POST",
        "/v1/buyers",
        json={"legal_name": "A", "tax_id": "1", "country": "DE"},
        headers=headers,
    )
    heads = marketplace.heads()
    other = world.call(
        "POST",
        "/v1/buyers",
        json={"legal_name": "B", "tax_id": "1", "country": "DE"},
        headers=headers,
    )
    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]
    assert marketplace.heads() == heads


def test_keys_are_scoped_to_the_caller(world: World) -> None:
    admin_a = world.buyer("A")
    admin_b = world.buyer("B")
    headers = {"Idempotency-Key": "user-1"}
    body = {"name": "Jo", "role": "buyer"}
    a = world.ok("POST", "/v1/buyer/users", admin_a, json=body, headers=headers)
    b = world.ok("POST", "/v1/buyer/users", admin_b, json=body, headers=headers)
    assert a["id"] != b["id"]
    assert world.ok("POST", "/v1/buyer/users", admin_a, json=body, headers=headers) == a


def test_without_a_key_each_post_creates_anew(world: World) -> None:
    body = {"name": "Rhine", "kind": "reseller", "country": "DE"}
    first = world.ok("POST", "/v1/resellers", json=body)
    second = world.ok("POST", "/v1/resellers", json=body)
    assert first["id"] != second["id"]
    assert first["api_key"] != second["api_key"]
