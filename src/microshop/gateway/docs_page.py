"""`/api/docs`: one Swagger UI over every service's OpenAPI document.

The page loads Swagger UI from `assets_url`: the gateway's own copy (swagger_ui.py)
or, where the gateway has none, the CDN. A list above it picks the service whose
document is shown, each document fetched through the gateway.
"""

import html
import json

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>microshop API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<label style="display:block;margin:1em 20px;font-family:sans-serif">Service
<select id="service">
{options}
</select></label>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({{
  url: {first_url},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  persistAuthorization: true
}});
document.getElementById("service").addEventListener("change", (event) => {{
  ui.specActions.updateUrl(event.target.value);
  ui.specActions.download(event.target.value);
}});
</script>
</body>
</html>
"""


def docs_page(openapi_urls: dict[str, str], assets_url: str) -> str:
    # The bundle's standalone layout, whose top bar lists several documents, is a
    # separate file the offline copy lacks: the list is a plain <select> instead.
    options = "\n".join(
        f'<option value="{html.escape(url)}">{html.escape(name)}</option>'
        for name, url in openapi_urls.items()
    )
    first_url = next(iter(openapi_urls.values()), "")
    # json.dumps escapes quotes; "</" must not close the script element early.
    return _PAGE.format(
        assets=html.escape(assets_url),
        options=options,
        first_url=json.dumps(first_url).replace("</", "<\\/"),
    )
