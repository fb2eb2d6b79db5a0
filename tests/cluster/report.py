"""What the three-host run measured, printed and (MICROSHOP_CLUSTER_REPORT) saved
as JSON for docs/deploy.md."""

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from tests.cluster.ledger import FINAL, Ledger
from tests.cluster.load import Load
from tests.cluster.registry_watch import RegistryTimeline

Faults = tuple[float, float, float, float, str, str]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _buckets(times: list[float], width: float = 5.0) -> list[int]:
    counts = Counter(int(t // width) for t in times)
    return [counts.get(i, 0) for i in range(max(counts, default=-1) + 1)]


def summary(
    load: Load,
    book: Ledger,
    timeline: RegistryTimeline,
    before: dict[str, int],
    settled_in: float,
    *,
    faults: Faults,
    stock: int,
) -> dict[str, Any]:
    cut_at, cut_for, partition_at, partition_for, cut_host, partitioned = faults
    accepted = [a.order_id for a in load.answers if a.status == 201]
    return {
        "offered": {"orders": len(load.answers), "per_s": load.rate, "seconds": load.seconds},
        "answers": dict(Counter(str(a.status or a.error) for a in load.answers)),
        "refused_with": load.refusals(),
        "answered_201": len(accepted),
        "accepted_per_s": round(len(accepted) / load.seconds, 1),
        "accepted_in_each_5_s": _buckets([a.done for a in load.answers if a.status == 201]),
        "outcomes": dict(Counter(book.statuses.values())),
        "not_approved_because": dict(book.reasons.most_common(4)),
        "orders_lost": sum(1 for o in accepted if book.statuses.get(o or 0) not in FINAL),
        "events_applied_twice": {k: len(v) for k, v in book.applied_twice().items()},
        "stock": {"sold": stock - book.stock, "in_approved_orders": book.approved_quantity},
        "longest_gap_without_an_accepted_order_s": round(load.longest_gap(), 2),
        "settled_after_load_s": round(settled_in, 1),
        "read_model_behind": len(book.history_behind()),
        "mails_missing": len(book.mails_missing()),
        "registry": {
            "instances_before": before,
            "h2_dropped_after_cut_s": _round(timeline.dropped_after(cut_host, cut_at)),
            "h2_back_after_restore_s": _round(
                timeline.back_after(cut_host, cut_at + cut_for, before.get(cut_host, 0))
            ),
            "h3_dropped_after_partition_s": _round(
                timeline.dropped_after(partitioned, partition_at)
            ),
            "h3_back_after_heal_s": _round(
                timeline.back_after(
                    partitioned, partition_at + partition_for, before.get(partitioned, 0)
                )
            ),
        },
    }


def publish(report: dict[str, Any]) -> None:
    text = json.dumps(report, indent=2)
    print("\n" + text)
    if path := os.environ.get("MICROSHOP_CLUSTER_REPORT"):
        Path(path).write_text(text + "\n")
