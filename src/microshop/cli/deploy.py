"""`microshop deploy write`: the Docker Compose and Kubernetes files in deploy/."""

from pathlib import Path
from typing import Annotated

import typer

from microshop.cli.common import out

deploy_app = typer.Typer(help="Docker Compose and Kubernetes files.", no_args_is_help=True)


@deploy_app.command("write")
def write(
    folder: Annotated[Path, typer.Option("--to", help="where to write")] = Path("deploy"),
) -> None:
    """Regenerate compose.yaml, kubernetes.yaml, envoy.json and postgres-init.sql."""
    from microshop.tools.deploy import write as write_files

    for path in write_files(folder):
        out.print(f"wrote {path}")
