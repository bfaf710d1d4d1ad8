"""Hello world of the Spin Python SDK 5.0.0 (componentize-py 0.25.1, world
`spin:up/http-trigger@4.1.0`): an async handler exported as
`wasi:http/handler@0.3.0`. Answers `Hello from Python SDK 5 at <path>`."""

from urllib.parse import urlparse

from spin_sdk import http
from spin_sdk.http import Request, Response


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        path = urlparse(request.uri).path
        body = f"Hello from Python SDK 5 at {path}"
        return Response(200, {"content-type": "text/plain"}, bytes(body, "utf-8"))
