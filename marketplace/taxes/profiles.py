"""Who a party is on an invoice: its tax profile (legal name, country, VAT ID or other tax
number, address), kept by the party's own context (the buyers' by buyers, the operator's and
sellers' by sellers)."""

from collections.abc import Mapping
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from marketplace.taxes.domain import vat_problem

PROFILES_NAMESPACE = uuid5(NAMESPACE_URL, "marketplace:tax-profiles")
# The operator's own profile is kept under this party id.
OPERATOR = UUID(int=0)
ADDRESS_FIELDS = ("line1", "line2", "postcode", "city", "country")


def profile_problems(
    country: str, vat_id: str | None, address: Mapping[str, str | None]
) -> list[str]:
    """What makes a tax profile unusable on an invoice, in a sentence each."""
    problems = []
    if vat_id is not None:
        said = vat_problem(vat_id, country)
        if said is not None:
            problems.append(said)
    for field in ("line1", "postcode", "city", "country"):
        if not (address.get(field) or "").strip():
            problems.append(f"the address needs its {field}")
    return problems


class TaxProfile(Aggregate):
    """Who a party is on an invoice: its legal name, country, VAT ID or other tax number,
    and address. One per party (the operator, a seller, a buyer)."""

    @staticmethod
    def create_id(party_id: UUID) -> UUID:
        return uuid5(PROFILES_NAMESPACE, str(party_id))

    @event("Set")
    def __init__(
        self,
        party_id: UUID,
        legal_name: str,
        country: str,
        vat_id: str | None,
        tax_id: str | None,
        address: dict[str, str | None],
    ) -> None:
        self.party_id = party_id
        self.legal_name = legal_name
        self.country = country
        self.vat_id = vat_id
        self.tax_id = tax_id
        self.address = address

    def revise(
        self,
        legal_name: str,
        country: str,
        vat_id: str | None,
        tax_id: str | None,
        address: dict[str, str | None],
    ) -> None:
        if (legal_name, country, vat_id, tax_id, address) != (
            self.legal_name,
            self.country,
            self.vat_id,
            self.tax_id,
            self.address,
        ):
            self._revised(
                legal_name=legal_name,
                country=country,
                vat_id=vat_id,
                tax_id=tax_id,
                address=address,
            )

    @event("Revised")
    def _revised(
        self,
        legal_name: str,
        country: str,
        vat_id: str | None,
        tax_id: str | None,
        address: dict[str, str | None],
    ) -> None:
        self.legal_name = legal_name
        self.country = country
        self.vat_id = vat_id
        self.tax_id = tax_id
        self.address = address

    def describe(self) -> dict[str, object]:
        return {
            "legal_name": self.legal_name,
            "country": self.country,
            "vat_id": self.vat_id,
            "tax_id": self.tax_id,
            "address": dict(self.address),
        }
