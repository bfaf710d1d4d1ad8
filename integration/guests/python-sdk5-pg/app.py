"""Outbound PostgreSQL with the Spin Python SDK 5.0.0 (`spin_sdk.postgres`, the
async functions of `spin:postgres/postgres@4.2.0`). The server's address is the
variable `pg_address`.

* `GET /setup`: (re)creates table `notes`; 200 `ready`.
* `POST /notes`: inserts the request body with bound parameters; 200 `inserted=<rows>`.
* `GET /notes`: 200, one `<id>:<body>:<n>` line per note, read from the row stream.
* `GET /bad`: 200 the error of a malformed statement: `<case>:<code>:<message>`.
"""

from urllib.parse import urlparse

from componentize_py_types import Err
from spin_sdk import http, postgres, variables
from spin_sdk.http import Request, Response
from spin_sdk.util import collect
from spin_sdk.wit.imports import spin_postgres_postgres_4_2_0 as pg


def text(status: int, body: str) -> Response:
    return Response(status, {"content-type": "text/plain"}, bytes(body, "utf-8"))


def describe(error: Err) -> str:
    """A server error as `query-failed:<SQLSTATE>:<message>`, others by their case."""
    value = error.value
    if isinstance(value, pg.Error_QueryFailed) and isinstance(value.value, pg.QueryError_DbError):
        return f"query-failed:{value.value.value.code}:{value.value.value.message}"
    return type(value).__name__


class HttpHandler(http.Handler):
    async def handle_request(self, request: Request) -> Response:
        path = urlparse(request.uri).path
        try:
            address = await variables.get("pg_address")
            with await postgres.Connection.open(address) as db:
                return await route(db, request.method, path, request.body or b"")
        except Err as e:
            return text(500, describe(e))


async def route(db, method: str, path: str, body: bytes) -> Response:
    if method == "GET" and path == "/setup":
        await db.execute("DROP TABLE IF EXISTS notes", [])
        await db.execute("CREATE TABLE notes (id serial PRIMARY KEY, body text, n int4)", [])
        return text(200, "ready")
    if method == "POST" and path == "/notes":
        params = [pg.ParameterValue_Str(body.decode("utf-8")), pg.ParameterValue_Int32(7)]
        inserted = await db.execute("INSERT INTO notes (body, n) VALUES ($1, $2)", params)
        return text(200, f"inserted={inserted}")
    if method == "GET" and path == "/notes":
        columns, rows, outcome = await db.query("SELECT id, body, n FROM notes ORDER BY id", [])
        lines = [":".join(str(value.value) for value in row) for row in await collect((rows, outcome))]
        return text(200, "\n".join(lines))
    if method == "GET" and path == "/bad":
        try:
            await db.query("SELEKT 1", [])
            return text(200, "unexpected success")
        except Err as e:
            return text(200, describe(e))
    return text(404, "no such route")
