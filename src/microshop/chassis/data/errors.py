"""What the engines say about a refused write, in one vocabulary.

Each adapter translates its driver's error by its class or code (never by the
text of the SQL), so a use case catches `UniqueViolation` whatever the engine.
"""


class IntegrityViolation(Exception):
    """A write broke a constraint (check, foreign key, not null, unique)."""

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class UniqueViolation(IntegrityViolation):
    """A write collided with a unique key or primary key: the row already exists."""
