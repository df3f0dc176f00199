"""Minting API keys. Only their hashes are stored (marketplace.kernel.accounts.ApiKey).

A key minted under an Idempotency-Key is derived from it with the server's secret, so a
retried request can be answered with the same key without the key ever being stored.
"""

import hashlib
import hmac
import secrets
from typing import Literal

KeyContext = Literal["s", "b"]  # which context's event store holds the key: sellers, buyers


def mint(context: KeyContext, secret: str, derive_from: str | None = None) -> str:
    if derive_from is None:
        token = secrets.token_hex(20)
    else:
        token = hmac.new(secret.encode(), derive_from.encode(), hashlib.sha256).hexdigest()[:40]
    return f"mk_{context}_{token}"


def context_of(api_key: str) -> KeyContext | None:
    if api_key.startswith("mk_s_"):
        return "s"
    if api_key.startswith("mk_b_"):
        return "b"
    return None
