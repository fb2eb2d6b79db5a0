"""`microshop trace <order id>`: an order's traces as the ops service keeps them,
read through its JSON API (the data /ops draws as a waterfall).

    traces = asyncio.run(order_traces(paths, 42, RuntimeSettings()))
    for line in trace_lines(traces[0]): print(line)
"""

from typing import Any

import aiohttp

from microshop.runtime.errors import StartupError
from microshop.runtime.reach import operator_headers, service_url
from microshop.runtime.settings import RuntimeSettings
from microshop.runtime.state import RunPaths

TIMEOUT_S = 10.0


async def order_traces(
    paths: RunPaths, order_id: int, settings: RuntimeSettings
) -> list[list[dict[str, Any]]]:
    """The spans of each trace of the order, oldest trace first."""
    base = service_url(paths, "ops") + "/ops/api"
    headers = operator_headers(paths, settings)
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=TIMEOUT_S), headers=headers
        ) as session:
            async with session.get(f"{base}/orders/{order_id}/traces") as reply:
                ids = await reply.json(content_type=None)
                if reply.status != 200:
                    raise StartupError(f"the ops service answered {reply.status}: {ids}")
            traces = []
            for trace_id in ids:
                async with session.get(f"{base}/traces/{trace_id}") as reply:
                    if reply.status == 200:
                        traces.append(await reply.json(content_type=None))
            return traces
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise StartupError(f"cannot reach the ops service at {base}: {exc}") from None


def trace_lines(spans: list[dict[str, Any]]) -> list[str]:
    """One line per span, indented under its parent, with its offset and duration."""
    if not spans:
        return []
    ids = {s["span_id"] for s in spans}
    children: dict[str, list[dict[str, Any]]] = {}
    for span in sorted(spans, key=lambda s: s["start_ns"]):
        parent = span["parent_id"] if span["parent_id"] in ids else ""
        children.setdefault(parent, []).append(span)
    start = min(s["start_ns"] for s in spans)
    lines: list[str] = []
    stack = [(span, 0) for span in reversed(children.get("", []))]
    while stack and len(lines) < len(spans):
        span, depth = stack.pop()
        offset = (span["start_ns"] - start) / 1e6
        took = (span["end_ns"] - span["start_ns"]) / 1e6
        failed = f"  FAILED: {span['error']}" if span.get("error") else ""
        lines.append(
            f"{offset:9.1f} ms {took:8.1f} ms  {'  ' * depth}{span['service']}: {span['name']}{failed}"
        )
        stack.extend((child, depth + 1) for child in reversed(children.get(span["span_id"], [])))
    return lines
