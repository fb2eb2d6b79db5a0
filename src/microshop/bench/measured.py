"""What a load engine answers for one run, whichever engine it is."""

from collections.abc import Callable
from dataclasses import dataclass

from microshop.bench.load import Recorder
from microshop.bench.report import KindReport

# live counters (None: the engine counts only at the end), seconds elapsed, planned
Tick = Callable[[Recorder | None, float, float], None]


@dataclass(frozen=True)
class Measured:
    kinds: list[KindReport]
    ok: int
    errors: int
    measured_s: float
    capped: bool
