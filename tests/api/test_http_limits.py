"""Slow and oversized requests against a real server: header and body time limits, and a 413 every client reads."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn

from ..servers import wait_for
from ..tasks.conftest import fast_settings
from .conftest import Server, running_server
from .test_conversion_api import PHOTO

pytestmark = pytest.mark.slow

HEADER_TIMEOUT = 1.0
MIN_RATE = 8 * 1024
LIMIT = 1024 * 1024
#: What the upload limit lets through before it counts a body as too large (the limit and its envelope).
BODY_LIMIT = LIMIT + 256 * 1024
TOO_LARGE = "Image size exceeds maximum limit of 1MB"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    settings = fast_settings(
        tmp_path_factory.mktemp("limits") / "data",
        header_timeout=HEADER_TIMEOUT,
        body_min_rate=MIN_RATE,
        max_upload_size=LIMIT,
    )
    settings.data_dir.mkdir(parents=True)
    with running_server(settings, 0) as running:
        yield running


def _address(server: Server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _multipart(image: bytes, metadata: dict[str, object]) -> tuple[bytes, str]:
    """A start request's body, as a browser sends it, and its content type."""
    boundary = "pixeletica-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{json.dumps(metadata)}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image_file"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + image + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _until_closed(sock: socket.socket, within: float = 20) -> tuple[bytes, float]:
    """Everything the server sends until it closes (or resets) the connection, and when it did."""
    sock.settimeout(within)
    answer = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sock.recv(65536):
            answer += chunk
    return answer, time.monotonic()


def _dribble(sock: socket.socket, data: bytes, every: float = 0.1, within: float = 20) -> tuple[bytes, float]:
    """Send ``data`` a byte every ``every`` seconds, reading all the while, until the server hangs up.

    Returns what the server sent and when it closed or reset the connection; fails if it never did.
    """
    answer = b""
    deadline = time.monotonic() + within
    sent = 0
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], every)
        try:
            if readable:
                chunk = sock.recv(65536)
                if not chunk:
                    return answer, time.monotonic()
                answer += chunk
            elif sent < len(data):
                sent += sock.send(data[sent : sent + 1])
        except OSError:  # reset, or a broken pipe: the server has gone
            return answer, time.monotonic()
    raise AssertionError(f"the server still held the connection after {within} s ({sent} bytes dribbled)")


def _status_and_detail(answer: bytes) -> tuple[int, str]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower(), head
    return int(head.split()[1]), json.loads(body)["detail"]


def _server_pid(server: Server) -> int:
    port = str(_address(server)[1]).encode()
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if b"serve" in argv and b"--port" in argv and port in argv:
                return int(entry.name)
    raise AssertionError("the server process is not found")


def _open_files(pid: int) -> list[str]:
    targets = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            targets.append(os.readlink(fd))
    return targets


def _temporary_files(pid: int) -> list[str]:
    """The server's open, unnamed temporary files (an upload spilled to disk)."""
    return [t for t in _open_files(pid) if t.startswith(tempfile.gettempdir()) and t.endswith("(deleted)")]


def _sockets(pid: int) -> int:
    return sum(t.startswith("socket:") for t in _open_files(pid))


# --- A: time limits on reading a request ----------------------------------------------------------------


def test_a_client_dribbling_its_headers_is_cut_off_after_the_header_timeout(server):
    with socket.create_connection(_address(server)) as sock:
        opened = time.monotonic()
        sock.sendall(b"GET / HTTP/1.1\r\nHost: pixeletica\r\n")
        answer, closed = _dribble(sock, b"X-Slow: " + b"x" * 1000)
    assert HEADER_TIMEOUT * 0.8 < closed - opened < HEADER_TIMEOUT + 10
    assert not answer or answer.startswith(b"HTTP/1.1 408 "), answer


def test_headers_that_stop_arriving_are_answered_408_and_the_connection_closed(server):
    with socket.create_connection(_address(server)) as sock:
        opened = time.monotonic()
        sock.sendall(b"POST /api/conversion/start HTTP/1.1\r\nHost: pixeletica\r\nContent-Type: multi")
        answer, closed = _until_closed(sock)
    assert HEADER_TIMEOUT * 0.8 < closed - opened < HEADER_TIMEOUT + 10
    status, detail = _status_and_detail(answer)
    assert status == 408 and "headers did not arrive within 1 second" in detail


def test_a_connection_that_sends_nothing_is_closed(server):
    with socket.create_connection(_address(server)) as sock:
        opened = time.monotonic()
        answer, closed = _until_closed(sock)
    assert answer == b""
    assert HEADER_TIMEOUT * 0.8 < closed - opened < HEADER_TIMEOUT + 10


def test_a_kept_alive_client_is_unaffected_and_each_request_is_timed_from_the_previous_response(server):
    connection = http.client.HTTPConnection(*_address(server), timeout=10)
    ports = set()
    for _ in range(3):
        connection.request("GET", "/api/health")
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert connection.sock is not None
        ports.add(connection.sock.getsockname()[1])
        time.sleep(HEADER_TIMEOUT * 0.6)
    assert len(ports) == 1  # one connection, open longer than the header timeout
    # Each pause is shorter than the timeout, but the headers end too late after the previous response.
    sock = connection.sock
    sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: pixeletica\r\n")
    time.sleep(HEADER_TIMEOUT * 0.6)
    with contextlib.suppress(OSError):
        sock.sendall(b"\r\n")
    answer, _ = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    connection.close()


def test_an_upload_at_a_steady_rate_may_take_longer_than_the_header_timeout(server):
    body, content_type = _multipart(PHOTO, {"width": 8})
    piece = 2048

    def paced() -> Iterator[bytes]:  # 20 KB a second: slower than loopback, faster than the minimum rate
        for start in range(0, len(body), piece):
            yield body[start : start + piece]
            time.sleep(0.1)

    connection = http.client.HTTPConnection(*_address(server), timeout=30)
    began = time.monotonic()
    connection.request(
        "POST",
        "/api/conversion/start",
        body=paced(),
        headers={"Content-Type": content_type, "Content-Length": str(len(body))},
    )
    response = connection.getresponse()
    assert response.status == 202, response.read()
    assert json.loads(response.read())["taskId"]
    assert time.monotonic() - began > HEADER_TIMEOUT * 1.5
    connection.close()


def test_a_client_dribbling_an_upload_gets_408_and_leaves_nothing_behind(tmp_path):
    settings = fast_settings(
        tmp_path / "data", header_timeout=HEADER_TIMEOUT, body_min_rate=MIN_RATE, max_upload_size=8 * LIMIT
    )
    settings.data_dir.mkdir(parents=True)
    image = os.urandom(3 * LIMIT)  # more than the form parser keeps in memory: it spills to a temporary file
    body, content_type = _multipart(image, {"width": 8})
    quick = body.index(image) + 2 * LIMIT
    with running_server(settings, workers=0) as server:
        pid = _server_pid(server)
        sockets = _sockets(pid)
        with socket.create_connection(_address(server)) as sock:
            sock.sendall(
                b"POST /api/conversion/start HTTP/1.1\r\nHost: pixeletica\r\n"
                + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body[:quick]
            )
            wait_for(lambda: _temporary_files(pid), 10, "the upload to spill to a temporary file")
            slowed = time.monotonic()
            answer, closed = _dribble(sock, body[quick:])
        assert closed - slowed < HEADER_TIMEOUT + 10
        if answer:  # else the server's close overtook its answer: a reset
            status, detail = _status_and_detail(answer)
            assert status == 408 and "arrived too slowly" in detail
        wait_for(lambda: not _temporary_files(pid), 5, "the temporary file to be closed")
        wait_for(lambda: _sockets(pid) <= sockets, 10, "the connection to be closed")
        stopping = time.monotonic()
    # A task still waiting for the slow client would hold up the shutdown.
    assert time.monotonic() - stopping < 30
    log = server.log.read_text()
    assert "Waiting for connections" not in log and "Waiting for background tasks" not in log
    assert "Traceback" not in log


@pytest.mark.parametrize("implementation", ["httptools", "h11"])
def test_both_http_implementations_time_out_late_headers(implementation):
    from pixeletica.api import timeouts

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    timeout = 0.5
    config = uvicorn.Config(app, http=timeouts.http_protocol(timeout, implementation), lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        wait_for(lambda: server.started, 10, "uvicorn to start")
        address = listener.getsockname()
        with socket.create_connection(address, timeout=5) as sock:
            for _ in range(3):  # prompt requests on one connection, for longer than the timeout
                sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
                answer = b""
                while not answer.endswith(b"\r\n\r\nok"):
                    chunk = sock.recv(4096)
                    assert chunk, answer
                    answer += chunk
                assert answer.startswith(b"HTTP/1.1 200 ")
                time.sleep(timeout * 0.6)
        with socket.create_connection(address) as sock:
            opened = time.monotonic()
            assert _until_closed(sock)[0] == b""
            assert time.monotonic() - opened < timeout + 10
        with socket.create_connection(address) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHo")
            status, detail = _status_and_detail(_until_closed(sock)[0])
            assert status == 408 and "headers did not arrive" in detail
    finally:
        server.should_exit = True
        thread.join(10)
        listener.close()
    assert not thread.is_alive()


def test_the_body_allowance_drains_while_waiting_and_refills_with_bytes_up_to_the_grace_period():
    from pixeletica.api import timeouts

    allowance = timeouts.BodyAllowance(grace=10, min_rate=1000)
    allowance.account(waited=4, received=0)
    assert allowance.seconds == 6
    allowance.account(waited=1, received=3000)
    assert allowance.seconds == 8
    allowance.account(waited=0, received=10**6)  # no credit beyond the grace period
    assert allowance.seconds == 10
    allowance.account(waited=10.5, received=0)
    assert allowance.exhausted


# --- B: a 413 that every client reads ----------------------------------------------------------------------


def _chunks(body: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _urllib(server: Server, body: bytes, content_type: str, chunked: bool) -> tuple[int, dict]:
    """POST with urllib, which sends the whole body before it reads the answer (chunked for an iterable)."""
    request = urllib.request.Request(
        server.url + "/api/conversion/start",
        data=_chunks(body) if chunked else body,
        headers={"Content-Type": content_type},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def _http_client(server: Server, body: bytes, content_type: str, chunked: bool) -> tuple[int, dict]:
    """POST with http.client, which also sends everything before reading."""
    connection = http.client.HTTPConnection(*_address(server), timeout=30)
    try:
        connection.request(
            "POST",
            "/api/conversion/start",
            body=_chunks(body) if chunked else body,
            headers={"Content-Type": content_type},
            encode_chunked=chunked,
        )
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


CLIENTS = {"urllib": _urllib, "http.client": _http_client}


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(
    ("size", "chunked"),
    [
        pytest.param(LIMIT + 1, False, id="just-over-the-limit"),
        pytest.param(BODY_LIMIT + 1, False, id="just-over-what-is-read"),
        pytest.param(4 * LIMIT, False, id="four-times-the-limit"),
        pytest.param(4 * LIMIT, True, id="four-times-the-limit-chunked"),
    ],
)
def test_every_client_reads_the_413_of_an_upload_over_the_limit(server, client, size, chunked):
    body, content_type = _multipart(b"\xff" * size, {"width": 8})
    status, answer = CLIENTS[client](server, body, content_type, chunked)
    assert (status, answer["detail"]) == (413, TOO_LARGE)


def test_the_rest_of_a_refused_upload_is_read_only_while_it_arrives_fast_enough(server):
    body, content_type = _multipart(b"\xff" * 3 * LIMIT, {"width": 8})
    with socket.create_connection(_address(server)) as sock:
        sock.sendall(
            b"POST /api/conversion/start HTTP/1.1\r\nHost: pixeletica\r\n"
            + f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        opened = time.monotonic()
        answer, closed = _dribble(sock, body)
    assert _status_and_detail(answer) == (413, TOO_LARGE)  # sent at once, before the body
    # The server read what came for the body's grace period (the header timeout), then gave up on it.
    assert HEADER_TIMEOUT * 0.8 < closed - opened < HEADER_TIMEOUT + 10


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("chunked", [False, True])
def test_an_upload_under_the_limit_still_starts_a_task(server, client, chunked):
    body, content_type = _multipart(PHOTO, {"width": 8})
    status, answer = CLIENTS[client](server, body, content_type, chunked)
    assert status == 202 and answer["taskId"]
