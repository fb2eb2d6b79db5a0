"""`/api/docs`: one Swagger UI over every service's OpenAPI document.

Like FastAPI's own `/docs`, the page loads Swagger UI from the jsDelivr CDN; its
top bar lists every service, each document fetched through the gateway.
"""

import html
import json

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>microshop API</title>
<link rel="stylesheet" href="{cdn}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{cdn}/swagger-ui-bundle.js"></script>
<script src="{cdn}/swagger-ui-standalone-preset.js"></script>
<script>
window.ui = SwaggerUIBundle({{
  urls: {urls},
  "urls.primaryName": {primary},
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "StandaloneLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  persistAuthorization: true
}});
</script>
</body>
</html>
"""


def docs_page(openapi_urls: dict[str, str]) -> str:
    urls = [{"name": name, "url": url} for name, url in openapi_urls.items()]
    primary = urls[0]["name"] if urls else ""
    # json.dumps escapes quotes; "</" must not close the script element early.
    return _PAGE.format(
        cdn=html.escape(SWAGGER_UI),
        urls=json.dumps(urls).replace("</", "<\\/"),
        primary=json.dumps(primary),
    )
