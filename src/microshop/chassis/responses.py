"""A JSON response rendered with orjson (FastAPI's own ORJSONResponse is deprecated)."""

from typing import Any

import orjson
from starlette.responses import Response


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
