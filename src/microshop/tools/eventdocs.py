"""docs/events.md, generated from the code: every event, its producer, its
consumers and its fields. `make test` checks the checked-in file is current."""

import importlib
from pathlib import Path

from microshop.contracts.events import EVENT_TYPES, Envelope, Event
from microshop.services import APPS

HEADER = """# Events

Generated from `microshop.contracts.events` and each service's `handlers.py` by
`microshop events docs > docs/events.md`; a test fails when this file is stale.

Every event travels in the same JSON envelope, written to the producer's outbox in
the transaction that changed its state and published by the relay with broker
confirmation. Consumers dedupe by `id` (their inbox) and ignore unknown fields.

Subjects and queues: on NATS, subject `<prefix>.events.<type>` in stream
`<prefix>_events`, one durable pull consumer `<prefix>_<consumer>` per consuming
service, filtered on the types it reads; on RabbitMQ, topic exchange
`<prefix>.events` with routing key `<type>` and one durable queue
`<prefix>.<consumer>` per consuming service, bound to each type it reads. The
instances of one service share that consumer (or queue): each event is handled
once per service. Dead letters: stream
`<prefix>_dead_letters` / queue `<prefix>.dead_letters`. The prefix is
`microshop` unless `MICROSHOP_BUS_PREFIX` says otherwise.

How long events stay: the NATS events stream keeps each for 7 days after it was
published, handled or not (a consumer away for longer misses the older ones; a
stream made by an earlier microshop without that limit gets it when a service
starts); a RabbitMQ queue drops an event once its consumer acknowledged it. Dead
letters stay on both until they are replayed or removed.
"""


def consumers() -> dict[str, list[str]]:
    by_type: dict[str, list[str]] = {}
    for service, target in APPS.items():
        package = target.partition(":")[0].rsplit(".", 1)[0]
        try:
            handlers = importlib.import_module(f"{package}.handlers").HANDLERS
        except ModuleNotFoundError:
            continue
        for event_type, handler in handlers.items():
            by_type.setdefault(event_type.TYPE, []).append(f"{service} (`{handler.__name__}`)")
    return by_type


def _fields(model: type[Event] | type[Envelope]) -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        annotation = getattr(field.annotation, "__name__", str(field.annotation))
        rows.append(f"| `{name}` | {annotation.replace('|', 'or')} | {field.description or ''} |")
    return rows


def render() -> str:
    lines = [HEADER, "## Envelope", "", "| field | type | meaning |", "|---|---|---|"]
    lines += _fields(Envelope)
    lines += ["", "## Catalogue", "", "| event | producer | consumers |", "|---|---|---|"]
    who = consumers()
    for event_type, model in EVENT_TYPES.items():
        readers = ", ".join(who.get(event_type, [])) or "none yet"
        lines.append(f"| `{event_type}` | {model.PRODUCER} | {readers} |")
    for event_type, model in EVENT_TYPES.items():
        lines += ["", f"### `{event_type}` (v{model.VERSION})", ""]
        if model.__doc__ and model.__doc__ is not Event.__doc__:
            lines += [model.__doc__.strip(), ""]
        lines += ["| field | type | meaning |", "|---|---|---|", *_fields(model)]
    return "\n".join(lines) + "\n"


def write(path: Path) -> None:
    path.write_text(render())
