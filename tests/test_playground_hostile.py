"""The playground server under hostile requests: every bad setup gets 400 and a message."""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from nn.network import NAMES
from nn.playground import BadRequest, make_server, parse_setup, url_of

HUGE = "1" + "0" * 400  # a JSON whole number far beyond any float


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    srv = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(srv)
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(10)


HUGE_NUMBERS = [
    ('{"lr": ' + HUGE + "}", "lr = 1.00000e+400 is outside [0, 100]"),
    ('{"lr": -' + HUGE + "}", "lr = -1.00000e+400 is outside"),
    ('{"seed": ' + HUGE + "}", "seed = 1.00000e+400 is outside [0, 4294967295]"),
    ("{" + '"params": {' + ", ".join(f'"{n}": {HUGE}' for n in NAMES) + "}}", "w11 = 1.0"),
]


@pytest.mark.parametrize(("body", "message"), HUGE_NUMBERS)
def test_a_whole_number_too_large_for_a_float_is_refused_with_a_message(
    body: str, message: str
) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_setup(body.encode())


def test_over_http_a_huge_whole_number_gets_400_not_500(server: str) -> None:
    req = urllib.request.Request(
        server + "api/state", data=('{"lr": ' + HUGE + "}").encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(req, timeout=60)
    assert caught.value.code == 400
    assert "lr = 1.00000e+400 is outside" in json.loads(caught.value.read())["error"]


def raw_status(url: str, request: bytes) -> bytes:
    """The status line the server answers a raw request with."""
    host, port = url.split("//")[1].strip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(request)
        return s.recv(4096).split(b"\r\n")[0]


@pytest.mark.parametrize("length", ["1_0", "+10", "0_10"])
def test_a_content_length_that_is_not_plain_digits_is_refused(server: str, length: str) -> None:
    body = b'{"seed":1}'  # ten bytes of a valid setup
    head = f"POST /api/state HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"
    assert raw_status(server, head.encode() + body + b"\n") == b"HTTP/1.1 400 Bad Request"


def test_a_client_that_hangs_up_mid_answer_prints_no_traceback(
    capsys: pytest.CaptureFixture[str],
) -> None:
    srv = make_server("127.0.0.1", 0)
    srv.daemon_threads = False  # so that server_close waits for every answer to be written
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    host, port = srv.server_address[:2]
    try:
        for _ in range(3):
            s = socket.create_connection((str(host), int(port)), timeout=30)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.sendall(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 404")
            s.close()  # a reset, while the server waits for the next request
    finally:
        srv.shutdown()
        srv.server_close()  # joins the handlers: each has met the reset by now
        thread.join(10)
    assert "Traceback" not in capsys.readouterr().err
