"""The kinds of refusal a use case can answer with, in words, not HTTP codes.

A service's rules raise these (or their own subclasses: `class OutOfStock(Conflict)`);
the chassis turns each kind into a status code and the JSON error body in one table
(chassis/errors.py), so no use case knows it is served over HTTP.

    raise NotFound("Order not found")
    raise Conflict("Out of stock", product_id=3, available=0)
"""

from typing import Any


class DomainError(Exception):
    """A request the rules refuse. `details` become further fields of the answer."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(DomainError):
    """The request is well-formed but asks for something the rules do not allow."""


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """The request collides with the current state (already paid, already shipped)."""


class Forbidden(DomainError):
    def __init__(self, message: str = "Forbidden", **details: Any) -> None:
        super().__init__(message, **details)


class Unauthorized(DomainError):
    def __init__(self, message: str = "Not authenticated", **details: Any) -> None:
        super().__init__(message, **details)


class Unavailable(DomainError):
    """A service this one depends on could not answer: try again later."""

    def __init__(self, service: str, retry_after: int = 1) -> None:
        super().__init__(f"{service} unavailable", retry_after=retry_after)
        self.service = service
        self.retry_after = retry_after


class BadUpstream(DomainError):
    """A service this one depends on answered something its contract does not allow."""


class IdempotencyKeyReused(Invalid):
    """The same Idempotency-Key came back with a different request."""

    def __init__(self) -> None:
        super().__init__("Idempotency-Key reused with a different request")
