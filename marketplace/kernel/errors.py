"""Domain errors: each carries the HTTP meaning the edge gives it, nothing else."""


class DomainError(Exception):
    status_code = 400

    def __init__(self, detail: object) -> None:
        super().__init__(str(detail))
        self.detail = detail


class Invalid(DomainError):
    status_code = 422


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class CreditExceeded(DomainError):
    status_code = 402
