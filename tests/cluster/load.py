"""Orders at a steady rate through the gateway (open loop: each leaves on its
schedule whether or not earlier ones were answered), every answer recorded."""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import aiohttp

TIMEOUT_S = 20.0
MAX_IN_FLIGHT = 1024


@dataclass
class Answer:
    sent: float  # seconds since the load began
    done: float
    status: int | None  # None: no answer (timeout, connection error)
    order_id: int | None
    error: str | None = None  # what came instead of an order: the exception, or the body


@dataclass
class Load:
    url: str
    user_id: int
    products: list[int]  # each order buys one of these, in turn
    rate: float
    seconds: float
    answers: list[Answer] = field(default_factory=list)
    started: float = 0.0

    async def run(self) -> None:
        """Sends rate * seconds orders; returns when every one is answered or timed out."""
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        connector = aiohttp.TCPConnector(limit=MAX_IN_FLIGHT, keepalive_timeout=3)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            self.started = self.started or time.monotonic()
            tasks = []
            for i in range(int(self.rate * self.seconds)):
                due = self.started + i / self.rate
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                tasks.append(
                    asyncio.create_task(self._order(session, self.products[i % len(self.products)]))
                )
            await asyncio.gather(*tasks)

    def now(self) -> float:
        return time.monotonic() - self.started

    async def _order(self, session: aiohttp.ClientSession, product: int) -> None:
        sent = self.now()
        body = {"user_id": self.user_id, "product_id": product, "quantity": 1}
        # The same key on a retry would be answered with the same order, never a second.
        headers = {"Idempotency-Key": uuid.uuid4().hex}
        try:
            async with session.post(f"{self.url}/api/orders", json=body, headers=headers) as r:
                data = await r.json(content_type=None) if r.status == 201 else None
                order_id = int(data["id"]) if data else None
                why = None if data else (await r.text())[:120]
                self.answers.append(Answer(sent, self.now(), r.status, order_id, why))
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.answers.append(Answer(sent, self.now(), None, None, type(exc).__name__))

    def refusals(self) -> dict[str, int]:
        """What the orders not accepted got instead: the most common, with their count."""
        seen = Counter(f"{a.status} {a.error}" for a in self.answers if a.status != 201)
        return dict(seen.most_common(5))

    def longest_gap(self) -> float:
        """The longest time, within the load, in which no order was accepted (201)."""
        accepted = sorted(a.done for a in self.answers if a.status == 201)
        edges = [0.0, *accepted, max(self.seconds, accepted[-1] if accepted else 0.0)]
        return max(b - a for a, b in itertools.pairwise(edges))
