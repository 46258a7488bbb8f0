#!/usr/bin/python3
"""permessage-deflate interop: Python websockets (Debian's python3-websockets, /usr/bin/python3) against the
social_server program. With its default compression it offers permessage-deflate with client_max_window_bits;
with --no-compression it offers nothing. Sends Pings of several sizes, expects each answered by its Pong (the
manager echoes a Ping's data) and checks what was negotiated; a binary message gets its Error; with compression,
also that a decompression bomb closes with 1009 (the server's limit: 1 MiB). Exits 0 when all is well.

    deflate_client.py ws://127.0.0.1:PORT/ws?token=JWT [--no-compression]
"""
import asyncio
import json
import sys

import websockets


def ping(size):
    """A Ping of about `size` bytes of JSON."""
    return json.dumps({"type": "Ping", "data": {"content": "hello " * (size // 6)}})


async def next_event(ws, event_type):
    """The next event of that type; the server may send others first (presence, the session)."""
    while True:
        event = json.loads(await ws.recv())
        if event["type"] == event_type:
            return event


async def main(url, compression):
    async with websockets.connect(url, compression=compression, max_size=2 ** 20) as ws:
        answer = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        if compression:
            expected = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
            assert answer == expected, f"negotiated {answer!r}"
            assert [type(e).__name__ for e in ws.extensions] == ["PerMessageDeflate"], ws.extensions
        else:
            assert answer == "" and not ws.extensions, f"negotiated {answer!r} with nothing offered"
        for size in (30, 100, 300, 5000, 200_000):
            sent = json.loads(ping(size))
            await ws.send(ping(size))
            pong = await next_event(ws, "Pong")
            assert pong["data"] == sent["data"], f"a Ping of {size} bytes was answered with another Pong"
        await ws.send(b"\x00\x01binary" * 100)
        error = await next_event(ws, "Error")
        assert error["data"]["code"] == "binary_unsupported", error
    if compression:
        await bomb(url)
    print(f"python websockets {websockets.__version__}: ok (compression {compression}, answer {answer!r})")


async def bomb(url):
    """4 MiB of one letter deflate to about 4 KiB: the server must close with 1009 (its limit is 1 MiB)."""
    async with websockets.connect(url, compression="deflate", max_size=8 << 20) as ws:  # only the server limits
        await ws.send("a" * (4 << 20))
        try:
            await next_event(ws, "Pong")
        except websockets.exceptions.ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == 1009, f"closed with {closed.rcvd}"
            return
        raise AssertionError("a 4 MiB message inflated past the limit was answered")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], None if "--no-compression" in sys.argv else "deflate"))
