"""Swagger UI's own files, which the gateway serves at /api/docs/<file> so the docs
page works on a machine without internet.

They come from the fastapi-offline package: it ships Swagger UI 5, which renders
the OpenAPI 3.1 documents FastAPI writes (swagger-ui-bundle ships Swagger UI 4,
which renders only 3.0). Envoy reads the files when it loads its configuration.
"""

import importlib.util
from pathlib import Path

ASSETS_PATH = "/api/docs"
# For a gateway that has no copy of the files (the containers of deploy/).
CDN_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
# File name -> content type. With nosniff a browser runs a script or applies a
# stylesheet only when it is served with its own type.
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
}


def installed_assets_dir() -> Path:
    """The folder of the installed files (found without importing the package)."""
    spec = importlib.util.find_spec("fastapi_offline")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Swagger UI's files are missing: pip install fastapi-offline")
    return Path(spec.submodule_search_locations[0]) / "static"
