"""`/api`: a short page that says what runs here, linked from the storefront's
footer; the gateway answers `/` with it too when no storefront (web) runs."""

import html

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>microshop</title>
</head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto;line-height:1.5">
<h1>microshop</h1>
<p>This is the gateway of microshop, an e-commerce platform made of separate
services. The storefront, where shoppers browse and order, is at
<a href="/">/</a> when its web service runs; everything else is an HTTP API
under <code>/api</code>.</p>
<ul>
<li><a href="/api/docs">API documentation</a>: every service's operations, to read and try out</li>
<li><a href="/health">Gateway health</a></li>
</ul>
<h2>Services</h2>
<ul>
{services}
</ul>
<p>How to run, use and change the system: README.md in the microshop repository.</p>
</body>
</html>
"""


def home_page(health_urls: dict[str, str]) -> str:
    """health_urls: each running service's health check as the gateway publishes it."""
    services = "\n".join(
        f'<li>{html.escape(name)}: <a href="{html.escape(url)}">{html.escape(url)}</a></li>'
        for name, url in health_urls.items()
    )
    return _PAGE.format(services=services)
