"""Keeps the gateway's endpoints in step with the running instances, without
restarting Envoy: each cluster reads `<run dir>/eds/<service>.json` (file-based
EDS), and this writes a file anew, by rename, whenever a service's live instances
change. Envoy notices the rename and swaps the endpoints in.

    feed = EdgeFeed(paths.eds_dir, ["users", "catalog"], registry)
    feed.write_all(initial)        # before Envoy starts: it needs the files to exist
    await feed.run()               # follows the registry until cancelled

With no registry to follow (a static one), the supervisor calls `write` itself
whenever it starts or stops an instance.
"""

import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

from microshop.chassis.registry import Instance, Registry
from microshop.chassis.registry.follow import follow
from microshop.gateway.clusters import Endpoint, endpoints_file


class EdgeFeed:
    def __init__(self, eds_dir: Path, services: Iterable[str], registry: Registry | None) -> None:
        self.eds_dir = eds_dir
        self.services = list(services)
        self.registry = registry
        self._written: dict[str, list[Endpoint]] = {}
        self._version = 0
        # Services the registry has shown at least once: until then an empty list
        # only means their instances have not registered yet, and the endpoints the
        # supervisor wrote at start stay.
        self._seen: set[str] = set()

    def write(self, service: str, endpoints: list[Endpoint]) -> None:
        endpoints = sorted(endpoints, key=lambda e: (e.host, e.port))
        if self._written.get(service) == endpoints:
            return
        self._version += 1
        self.eds_dir.mkdir(parents=True, exist_ok=True)
        target = self.eds_dir / f"{service}.json"
        temp = self.eds_dir / f".{service}.json.tmp"
        temp.write_text(json.dumps(endpoints_file(service, endpoints, str(self._version))))
        # A rename is what Envoy's directory watch reacts to, and it is atomic.
        os.replace(temp, target)
        self._written[service] = endpoints

    def write_all(self, table: Mapping[str, list[Endpoint]]) -> None:
        for service in self.services:
            self.write(service, list(table.get(service, [])))

    def write_instances(self, live: Iterable[Instance]) -> None:
        table: dict[str, list[Endpoint]] = defaultdict(list)
        for instance in live:
            table[instance.service].append(Endpoint(instance.address, instance.port))
        self._seen.update(table)
        for service in self.services:
            if service in self._seen:
                self.write(service, table.get(service, []))

    async def run(self) -> None:
        if self.registry is not None:
            await follow(self.registry, self.write_instances, "edge feed")
