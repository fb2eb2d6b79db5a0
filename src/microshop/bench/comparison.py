"""What `microshop bench compare` measured: the chapter's rows, microshop's, and those of
the optional phases (microshop on PostgreSQL, with a grown catalog, with tracing off
and on)."""

from dataclasses import dataclass, field
from typing import Any

from microshop.bench.report import BenchResult


@dataclass
class Comparison:
    seed: dict[str, BenchResult] = field(default_factory=dict)
    microshop: dict[str, BenchResult] = field(default_factory=dict)
    # --db postgres: microshop again, every service on the machine's PostgreSQL
    postgres: dict[str, BenchResult] = field(default_factory=dict)
    # --products N: microshop's rows after importing N products
    growth: dict[str, BenchResult] = field(default_factory=dict)
    growth_products: int | None = None
    # --tracing: microshop's order row again with no span recorded ("off") and with
    # every request and event traced ("all")
    tracing: dict[str, BenchResult] = field(default_factory=dict)
    seed_note: str | None = None
    # A phase that could not run, and why.
    notes: list[str] = field(default_factory=list)

    def results(self) -> list[BenchResult]:
        return [
            *self.seed.values(),
            *self.microshop.values(),
            *self.postgres.values(),
            *self.growth.values(),
            *self.tracing.values(),
        ]

    def ratio(self, ours: BenchResult | None, theirs: str) -> float | None:
        """ours' ok/s over the chapter's `theirs` row; None when either is missing."""
        if ours is None or theirs not in self.seed:
            return None
        base = self.seed[theirs].ok_per_s
        return round(ours.ok_per_s / base, 2) if base else None

    def to_json(self) -> dict[str, Any]:
        """Every row (the targets: targets.py)."""

        def rows(results: dict[str, BenchResult]) -> dict[str, Any]:
            return {name: result.to_json() for name, result in results.items()}

        return {
            "tool": "microshop bench compare",
            "seed": rows(self.seed),
            "microshop": rows(self.microshop),
            "postgres": rows(self.postgres),
            "growth": rows(self.growth),
            "growth_products": self.growth_products,
            "tracing": rows(self.tracing),
            "seed_note": self.seed_note,
            "notes": self.notes,
        }
