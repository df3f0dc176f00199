"""Where a refusal's reason becomes an HTTP status: here, and nowhere else."""

from collections.abc import Sequence
from typing import Any

from marketplace.kernel.errors import DomainError, Refusal

STATUS = {
    Refusal.BAD_REQUEST: 400,
    Refusal.CREDIT: 402,
    Refusal.FORBIDDEN: 403,
    Refusal.NOT_FOUND: 404,
    Refusal.NOT_YET: 408,
    Refusal.CONFLICT: 409,
    Refusal.INVALID: 422,
}


def status_of(error: DomainError) -> int:
    return STATUS[error.reason]


def detail_of(error: DomainError) -> Any:
    """The error's detail as JSON; each problem's reason is given as its status."""
    if isinstance(error.detail, list):
        return [_problem(p) if isinstance(p, dict) else p for p in error.detail]
    return error.detail


def _problem(problem: dict[str, Any]) -> dict[str, Any]:
    reason = problem.get("reason")
    if not isinstance(reason, Refusal):
        return problem
    shown = {k: v for k, v in problem.items() if k != "reason"}
    shown["status"] = STATUS[reason]
    return shown


SECRET_FIELDS = frozenset({"password", "password_again"})


def without_secrets(errors: Sequence[Any]) -> list[Any]:
    """Validation errors echo what was sent; a password is never echoed back."""
    clean = []
    for error in errors:
        error = dict(error)
        given = error.get("input")
        if SECRET_FIELDS & {str(part) for part in error.get("loc", ())}:
            error.pop("input", None)
        elif isinstance(given, dict) and SECRET_FIELDS & given.keys():
            error["input"] = {k: v for k, v in given.items() if k not in SECRET_FIELDS}
        clean.append(error)
    return clean
