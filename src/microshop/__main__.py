from microshop.cli import app

app()
