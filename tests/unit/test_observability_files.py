"""The static files in deploy/observability/ agree with the code: every metric a
dashboard panel asks for is one the services publish, and Prometheus scrapes
every service."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

import microshop.chassis.metrics
import microshop.chassis.outbox
import microshop.services.orders.saga_store  # noqa: F401  (registers the saga counter)
from microshop.services import APPS

FOLDER = Path(__file__).resolve().parents[2] / "deploy" / "observability"


def published() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {sample.name for sample in family.samples} | {family.name}
        if family.type == "counter":
            names.add(f"{family.name}_total")
        if family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
    return names


def test_every_microshop_metric_on_the_dashboard_is_published() -> None:
    dashboard = json.loads((FOLDER / "grafana" / "dashboards" / "microshop.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bmicroshop_[a-z_]+", target["expr"])
    }
    assert asked, "the dashboard names no microshop metric"
    assert asked - published() == set()
    assert {"microshop_breaker_state", "microshop_saga_outcomes_total"} <= asked


def test_prometheus_scrapes_every_service_and_the_gateway() -> None:
    config = yaml.safe_load((FOLDER / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert {f"{name.replace('_', '-')}:8000" for name in APPS} <= targets
    assert "gateway:9902" in targets  # the metrics listener, not the admin port
