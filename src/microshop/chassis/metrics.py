"""RED metrics (rate, errors, duration) of what a service serves and what it asks
of its peers, the lag of the events it consumes, and its breakers' states; every
service publishes them at /metrics in Prometheus's text format.

    microshop_http_requests_total{route="/orders",method="POST",status="201"}
    microshop_http_request_duration_seconds_bucket{route="/orders",method="POST",le="0.05"}
    microshop_client_requests_total{peer="catalog",method="POST",outcome="2xx"}
    microshop_consumer_lag_seconds_bucket{type="order.created",le="0.1"}
    microshop_breaker_state{peer="catalog"} 2          (0 closed, 1 half-open, 2 open)

Labels are route templates and peer names, never raw paths or ids, so the number
of series stays bounded. The labelled children are kept in dicts: prometheus-client's
`labels()` costs more than the observation itself.
"""

import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# 1 ms to 10 s: a lean route answers in a millisecond, a saga step times out at 3 s.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter("microshop_http_requests", "Requests served", ["route", "method", "status"])
HTTP_DURATION = Histogram(
    "microshop_http_request_duration_seconds",
    "Time to answer a request",
    ["route", "method"],
    buckets=BUCKETS,
)
CLIENT_REQUESTS = Counter(
    "microshop_client_requests",
    "Calls to other services, by outcome (2xx, 4xx, 5xx, unreachable, breaker_open)",
    ["peer", "method", "outcome"],
)
CLIENT_DURATION = Histogram(
    "microshop_client_request_duration_seconds",
    "Time a call to another service took, retries included",
    ["peer", "method"],
    buckets=BUCKETS,
)
EVENTS_HANDLED = Counter(
    "microshop_events_handled", "Events consumed, by outcome", ["type", "outcome"]
)
CONSUMER_LAG = Histogram(
    "microshop_consumer_lag_seconds",
    "From an event's occurrence to its handling by this consumer",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)

_served: dict[tuple[str, str, str], Any] = {}
_served_time: dict[tuple[str, str], Any] = {}
_calls: dict[tuple[str, str, str], Any] = {}
_calls_time: dict[tuple[str, str], Any] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    key = (route, method, str(status))
    counter = _served.get(key)
    if counter is None:
        counter = _served[key] = HTTP_REQUESTS.labels(*key)
    counter.inc()
    timing = _served_time.get(key[:2])
    if timing is None:
        timing = _served_time[key[:2]] = HTTP_DURATION.labels(route, method)
    timing.observe(seconds)


def observe_call(peer: str, method: str, outcome: str, seconds: float) -> None:
    key = (peer, method, outcome)
    counter = _calls.get(key)
    if counter is None:
        counter = _calls[key] = CLIENT_REQUESTS.labels(*key)
    counter.inc()
    timing = _calls_time.get(key[:2])
    if timing is None:
        timing = _calls_time[key[:2]] = CLIENT_DURATION.labels(peer, method)
    timing.observe(seconds)


_events: dict[tuple[str, str], Any] = {}
_lags: dict[str, Any] = {}


def observe_event(event_type: str, outcome: str, lag_seconds: float | None) -> None:
    key = (event_type, outcome)
    counter = _events.get(key)
    if counter is None:
        counter = _events[key] = EVENTS_HANDLED.labels(*key)
    counter.inc()
    if lag_seconds is not None:
        lag = _lags.get(event_type)
        if lag is None:
            lag = _lags[event_type] = CONSUMER_LAG.labels(event_type)
        lag.observe(max(lag_seconds, 0.0))


def outcome_of(status: int) -> str:
    return f"{status // 100}xx"


class HasBreakers(Protocol):
    @property
    def breaker_states(self) -> dict[str, str]: ...


_STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2}


class BreakerCollector(Collector):
    """Reads the breakers of every live service client at scrape time."""

    def __init__(self) -> None:
        self.clients: weakref.WeakSet[Any] = weakref.WeakSet()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "microshop_breaker_state",
            "Circuit breaker per downstream: 0 closed, 1 half-open, 2 open",
            labels=["peer"],
        )
        for client in list(self.clients):
            for peer, state in client.breaker_states.items():
                family.add_metric([peer], _STATE_VALUE.get(state, 0))
        yield family


BREAKERS = BreakerCollector()
REGISTRY.register(BREAKERS)


def watch_breakers(client: HasBreakers) -> None:
    BREAKERS.clients.add(client)
