"""Key-value stores with the Spin Python SDK 5.0.0 (`spin_sdk.key_value`, the
async `spin:key-value/key-value@3.0.0`), the same routes as `python-kv`:

* `GET /kv/<key>`: 200 with the value, or 404.
* `PUT /kv/<key>`: stores the request body; 200 `stored`.
* `DELETE /kv/<key>`: 200 `deleted`.
* `GET /exists/<key>`: 200 `true` or `false`.
* `GET /keys`: 200 with the sorted keys, one per line.
* `GET /open/<label>`: 200 `opened`, or 200 `error=Error::<Variant>`.

`?store=<label>` picks another store than `default`; store errors answer 500.
"""

from urllib.parse import urlparse

from componentize_py_types import Err
from spin_sdk import http, key_value
from spin_sdk.http import Request, Response
from spin_sdk.util import collect


def text(status: int, body: str) -> Response:
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def describe(error: Err) -> str:
    """`Error_AccessDenied` -> `Error::AccessDenied`, as the Rust guest prints it."""
    return type(error.value).__name__.replace("_", "::", 1)


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        url = urlparse(request.uri)
        path = url.path
        if path.startswith("/open/"):
            try:
                with await key_value.open(path[len("/open/"):]):
                    return text(200, "opened")
            except Err as e:
                return text(200, f"error={describe(e)}")
        label = url.query[len("store="):] if url.query.startswith("store=") else "default"
        try:
            with await key_value.open(label) as store:
                return await route(store, request.method, path, request.body or b"")
        except Err as e:
            return text(500, describe(e))


async def route(store, method: str, path: str, body: bytes) -> Response:
    if method == "GET" and path == "/keys":
        return text(200, "\n".join(sorted(await collect(await store.get_keys()))))
    if method == "GET" and path.startswith("/exists/"):
        return text(200, "true" if await store.exists(path[len("/exists/"):]) else "false")
    if path.startswith("/kv/"):
        key = path[len("/kv/"):]
        if method == "GET":
            value = await store.get(key)
            return Response(200, {}, value) if value is not None else text(404, "no such key")
        if method == "PUT":
            await store.set(key, body)
            return text(200, "stored")
        if method == "DELETE":
            await store.delete(key)
            return text(200, "deleted")
    return text(404, "no such route")
