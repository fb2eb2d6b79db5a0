"""What a service observes of itself: its tracer and span exporter, and its request
log. The app holds one from the start (spans then propagate but are dropped, and
nothing is logged) and its lifespan configures it from the settings:

    telemetry.configure(settings, "orders", discovery)   # in the event loop
    ...
    await telemetry.close()
"""

from collections.abc import Callable

from microshop.chassis.request_log import NoRequestLog, RequestLog, open_request_log
from microshop.chassis.settings import ServiceSettings
from microshop.chassis.trace_export import SpanExporter
from microshop.chassis.tracing import Sampler, Tracer, default_tracer

# Where spans go by default: the ops service keeps them (services/ops).
COLLECTOR_SERVICE = "ops"


class Telemetry:
    def __init__(self) -> None:
        self.tracer: Tracer = default_tracer()
        self.request_log: RequestLog = NoRequestLog()
        self.exporter: SpanExporter | None = None
        self.instance = ""

    def configure(
        self,
        settings: ServiceSettings,
        service: str,
        endpoints: Callable[[str], list[str]],
    ) -> None:
        """endpoints: the live base URLs of a service (the client's discovery)."""
        self.instance = settings.instance_id or service
        self.request_log = open_request_log(settings.request_log, settings.data_dir, self.instance)
        sampler = Sampler(settings.trace_sample_ratio, settings.trace_sample_per_second)
        if not settings.tracing:
            self.tracer = Tracer(service, sampler, enabled=False)
            return
        configured = settings.otlp_endpoint

        def endpoint() -> str | None:
            if configured:
                return configured
            found = endpoints(COLLECTOR_SERVICE)
            return found[0] if found else None

        self.exporter = SpanExporter(service, endpoint)
        self.tracer = Tracer(service, sampler, self.exporter.add)
        self.exporter.start()

    async def close(self) -> None:
        if self.exporter is not None:
            await self.exporter.stop()
        self.request_log.close()
