"""Display names for the accounts a page lists, read from the views in one query."""

from collections.abc import Iterable

from marketplace.platform import Marketplace
from marketplace.web.invoice_pdf import account_name


def names_of(market: Marketplace, ids: Iterable[str]) -> dict[str, str]:
    """Account names by id, sellers' and buyers' alike; an account the views do not list yet
    (created a moment ago) is read from its aggregate."""
    wanted = list(dict.fromkeys(ids))
    names = market.catalog.account_names(wanted)
    return {raw: names.get(raw) or account_name(market, raw) for raw in wanted}
