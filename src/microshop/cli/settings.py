"""`microshop settings docs`: every environment variable microshop reads."""

import typer

settings_app = typer.Typer(help="The environment variables microshop reads.", no_args_is_help=True)


@settings_app.command("docs")
def docs() -> None:
    """Print the settings table (docs/settings.md), generated from the settings classes."""
    from microshop.tools.settingsdocs import render

    typer.echo(render(), nl=False)
