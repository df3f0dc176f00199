"""Domain errors, each naming why something was refused; only the edge turns a reason into
an HTTP status."""

from enum import Enum


class Refusal(Enum):
    BAD_REQUEST = "bad_request"
    INVALID = "invalid"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    CREDIT = "credit"
    NOT_YET = "not_yet"


class DomainError(Exception):
    reason = Refusal.BAD_REQUEST

    def __init__(self, detail: object, reason: Refusal | None = None) -> None:
        super().__init__(str(detail))
        self.detail = detail
        if reason is not None:
            self.reason = reason


class Invalid(DomainError):
    reason = Refusal.INVALID


class Forbidden(DomainError):
    reason = Refusal.FORBIDDEN


class NotFound(DomainError):
    reason = Refusal.NOT_FOUND


class Conflict(DomainError):
    reason = Refusal.CONFLICT


class CreditExceeded(DomainError):
    reason = Refusal.CREDIT


class NotYet(DomainError):
    """What was asked for has not happened yet (a view behind a position); retry later."""

    reason = Refusal.NOT_YET
