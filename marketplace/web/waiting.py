"""Reads that wait for a view to reflect a command (`min_position`) wait on the event loop,
not in a worker thread, so waiting requests never starve the others."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query
from fastapi.concurrency import run_in_threadpool

from marketplace.platform import VIEW_WAIT_S, ViewTimeout
from marketplace.web.auth import MarketplaceDep

MinPosition = Annotated[
    str | None,
    Query(max_length=1000, description="wait until the view reflects this command position"),
]
FIRST_POLL_S = 0.01
LAST_POLL_S = 0.2


def _ready(name: str) -> Callable[..., Awaitable[None]]:
    async def ready(market: MarketplaceDep, min_position: MinPosition = None) -> None:
        if min_position is None:
            return
        wanted = await run_in_threadpool(market.wanted_position, min_position)
        deadline = time.monotonic() + VIEW_WAIT_S
        pause = FIRST_POLL_S
        while not await run_in_threadpool(market.view_reached, name, wanted):
            if time.monotonic() >= deadline:
                raise ViewTimeout("the view has not caught up with that position yet; retry")
            await asyncio.sleep(pause)
            pause = min(pause * 2, LAST_POLL_S)

    return ready


CatalogReady = Annotated[None, Depends(_ready("catalog"))]
OrdersReady = Annotated[None, Depends(_ready("orders"))]
BillingReady = Annotated[None, Depends(_ready("billing"))]
