"""Where a refusal's reason becomes an HTTP status: here, and nowhere else."""

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
