"""The `microshop` command: one module per command group, each importing what its
commands need only when they run (`microshop down` loads neither FastAPI nor a
database driver)."""

import typer

from microshop.bench.cli import bench_app
from microshop.cli.deploy import deploy_app
from microshop.cli.events import events_app
from microshop.cli.fleet import chaos_app, scale, services
from microshop.cli.gateway import gateway_app
from microshop.cli.saga import saga_app
from microshop.cli.serve import serve
from microshop.cli.settings import settings_app
from microshop.cli.system import down, logs, status, up
from microshop.cli.trace import trace

app = typer.Typer(
    help="microshop: an e-commerce platform built as real microservices.", no_args_is_help=True
)


@app.callback()
def main() -> None:
    """microshop: an e-commerce platform built as real microservices."""


for command in (serve, up, down, status, logs, services, scale, trace):
    app.command()(command)
app.add_typer(gateway_app, name="gateway")
# `microshop bench`: its module imports only typer and rich until a run starts.
app.add_typer(bench_app, name="bench")
app.add_typer(events_app, name="events")
app.add_typer(saga_app, name="saga")
app.add_typer(deploy_app, name="deploy")
app.add_typer(settings_app, name="settings")
app.add_typer(chaos_app, name="chaos")
