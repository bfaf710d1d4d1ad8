"""A wasi:http 0.2.0-rc-2023-11-10 handler built with componentize-py 0.7.1
(no Spin SDK: the bindings of the `wasi:http/proxy` world are used directly).

GET /...         "Hello from componentize-py 0.7 at <path> route=<spin-component-route>"
GET /...?url=U   fetches U (a plain-HTTP URL): "status=<code>;body=<body>", or 502
                 with the error code when the request fails (denied, refused)
POST /echo       the request body back, its length in x-echo-length, after
                 waiting for the request's trailers
"""

from urllib.parse import parse_qs, urlsplit

from proxy import exports
from proxy.imports import outgoing_handler
from proxy.imports.streams import StreamErrorClosed
from proxy.imports.types import (
    Fields,
    IncomingBody,
    IncomingRequest,
    MethodGet,
    MethodPost,
    OutgoingBody,
    OutgoingRequest,
    OutgoingResponse,
    RequestOptions,
    ResponseOutparam,
    SchemeHttp,
)
from proxy.types import Err, Ok

READ_CHUNK = 16 * 1024
CONNECT_TIMEOUT_NS = 5_000_000_000


class IncomingHandler(exports.IncomingHandler):
    def handle(self, request: IncomingRequest, response_out: ResponseOutparam):
        headers = {name: value.decode() for name, value in request.headers().entries()}
        target = request.path_with_query() or "/"
        split = urlsplit(target)
        if isinstance(request.method(), MethodPost) and split.path == "/echo":
            body = read_all(request.consume())
            respond(response_out, 200, body, [("x-echo-length", str(len(body)).encode())])
            return
        url = parse_qs(split.query).get("url")
        if url:
            try:
                status, body = fetch(url[0])
                respond(response_out, 200, f"status={status};body={body.decode()}".encode())
            except Err as failure:
                respond(response_out, 502, repr(failure.value).encode())
            return
        route = headers.get("spin-component-route", "")
        respond(response_out, 200, f"Hello from componentize-py 0.7 at {split.path} route={route}".encode())


def read_all(body: IncomingBody) -> bytes:
    """Reads a body to its end, then waits for its trailers."""
    stream = body.stream()
    chunks = []
    while True:
        try:
            chunks.append(stream.blocking_read(READ_CHUNK))
        except Err as end:
            if isinstance(end.value, StreamErrorClosed):
                break
            raise
    stream.drop()
    trailers = IncomingBody.finish(body)
    trailers.subscribe().block()
    outcome = trailers.get()
    if outcome is None or isinstance(outcome, Err):
        raise RuntimeError(f"the request's trailers: {outcome!r}")
    return b"".join(chunks)


def fetch(url: str):
    """GETs `url` with a connect timeout; raises `Err(error-code)` on failure."""
    parts = urlsplit(url)
    request = OutgoingRequest(Fields())
    request.set_method(MethodGet())
    request.set_scheme(SchemeHttp())
    request.set_authority(parts.netloc)
    request.set_path_with_query(parts.path or "/")
    options = RequestOptions()
    options.set_connect_timeout_ms(CONNECT_TIMEOUT_NS)
    future = outgoing_handler.handle(request, options)
    future.subscribe().block()
    outcome = future.get()
    if outcome is None or isinstance(outcome, Err):
        raise RuntimeError(f"the response: {outcome!r}")
    if isinstance(outcome.value, Err):
        raise outcome.value
    response = outcome.value.value
    return response.status(), read_all(response.consume())


def respond(response_out: ResponseOutparam, status: int, body: bytes, headers=()):
    fields = Fields.from_list([("content-type", b"text/plain")] + list(headers))
    response = OutgoingResponse(fields)
    response.set_status_code(status)
    outgoing = response.body()
    ResponseOutparam.set(response_out, Ok(response))
    stream = outgoing.write()
    for start in range(0, len(body), 4096):
        stream.blocking_write_and_flush(body[start : start + 4096])
    stream.drop()
    OutgoingBody.finish(outgoing, None)
