"""The last traces, kept in the ops service's own database; the oldest go first
once more than `kept` are held, so it never grows past a bound.

    await keep_spans(db, records, kept=200)
    spans = await trace_spans(db, trace_id)
    ids = await traces_of_order(db, 42)
"""

import orjson
from sqlalchemy import bindparam, delete, func, select

from microshop.chassis.data import Database, Query, Row, insert_into
from microshop.services.ops.models import spans, traces
from microshop.services.ops.otlp import SpanRecord

NEW_TRACE = insert_into(traces, ["trace_id"], on_duplicate="skip")
NEW_SPAN = insert_into(
    spans,
    [c.name for c in spans.columns],
    on_duplicate="skip",
)
COUNT = Query(select(func.count().label("n")).select_from(traces))
CUTOFF = Query(
    select(traces.c.seq).order_by(traces.c.seq.desc()).offset(bindparam("kept")).limit(1)
)
OLD_SPANS = Query(
    delete(spans).where(
        spans.c.trace_id.in_(select(traces.c.trace_id).where(traces.c.seq <= bindparam("seq")))
    )
)
OLD_TRACES = Query(delete(traces).where(traces.c.seq <= bindparam("seq")))
SPANS_OF = Query(
    select(spans).where(spans.c.trace_id == bindparam("trace_id")).order_by(spans.c.start_ns)
)
TRACES_OF_ORDER = Query(
    select(spans.c.trace_id, func.min(spans.c.start_ns).label("start_ns"))
    .where(spans.c.order_id == bindparam("order_id"))
    .group_by(spans.c.trace_id)
    .order_by(func.min(spans.c.start_ns))
)
RECENT = Query(select(traces.c.trace_id).order_by(traces.c.seq.desc()).limit(bindparam("limit")))


async def keep_spans(db: Database, records: list[SpanRecord], kept: int) -> None:
    if not records:
        return
    async with db.transaction() as tx:
        for trace_id in dict.fromkeys(r.trace_id for r in records):
            await tx.insert(NEW_TRACE, trace_id=trace_id)
        for r in records:
            await tx.insert(
                NEW_SPAN,
                trace_id=r.trace_id,
                span_id=r.span_id,
                parent_id=r.parent_id,
                service=r.service,
                name=r.name,
                kind=r.kind,
                start_ns=r.start_ns,
                end_ns=r.end_ns,
                error=r.error,
                attributes=orjson.dumps(r.attributes).decode(),
                order_id=r.order_id,
            )
        cutoff = await tx.fetch_one(CUTOFF, kept=kept)
        if cutoff is not None:
            await tx.execute(OLD_SPANS, seq=cutoff["seq"])
            await tx.execute(OLD_TRACES, seq=cutoff["seq"])


async def trace_spans(db: Database, trace_id: str) -> list[Row]:
    return await db.fetch_all(SPANS_OF, trace_id=trace_id)


async def traces_of_order(db: Database, order_id: int) -> list[str]:
    return [row["trace_id"] for row in await db.fetch_all(TRACES_OF_ORDER, order_id=order_id)]


async def recent_traces(db: Database, limit: int = 20) -> list[str]:
    return [row["trace_id"] for row in await db.fetch_all(RECENT, limit=limit)]


async def trace_count(db: Database) -> int:
    return int(await db.fetch_value(COUNT) or 0)
