"""Hello world with the Spin Python SDK 3.4.1: every path answers 200
`Hello from Python` (text/plain)."""

from spin_sdk import http
from spin_sdk.http import Request, Response


class IncomingHandler(http.IncomingHandler):
    def handle_request(self, request: Request) -> Response:
        return Response(
            200,
            {"content-type": "text/plain"},
            bytes("Hello from Python", "utf-8"),
        )
