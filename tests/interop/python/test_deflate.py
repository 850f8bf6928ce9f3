"""permessage-deflate (RFC 7692) against Python's websockets client, which offers it by
default: `aerie serve --per-message-deflate` in shared mode (no context takeover either
way) and dedicated mode (--deflate-context-takeover), echo of compressible and random
payloads, a decompression bomb closed with 1009, and a client that offers nothing."""

import os

from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from aerie_interop import check, check_eq, connect, expect_closed, main, recv

MIB = 1024 * 1024
LIMITS = ["--max-message-size", MIB, "--max-frame-size", MIB, "--heartbeat-ms", 0,
          "--max-frames-per-second", 0, "--max-bytes-per-minute", 0]
PAYLOADS = ["hello", "x" * 100_000, "unicode \u00e9\u4e2d " * 5_000, b"\x00\x01" * 50_000,
            os.urandom(200_000), ""]


async def echo_all(url):
    async with connect(url, max_size=None) as ws:
        header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check([e.name for e in ws.extensions] == ["permessage-deflate"],
              f"permessage-deflate not negotiated (answer: {header!r})")
        for payload in PAYLOADS * 2:  # twice: context takeover must stay consistent
            await ws.send(payload)
            echo = await recv(ws, timeout=10, what=f"echo of {len(payload)} bytes")
            check(echo == payload, f"echo of {len(payload)} bytes differs ({len(echo)} back)")
        return header


async def case_shared(ctx):
    server = ctx.cli("--ws", "/echo=echo", "--per-message-deflate", *LIMITS)
    header = await echo_all(server.url("/echo"))
    check("server_no_context_takeover" in header and "client_no_context_takeover" in header,
          f"shared mode answer: {header!r}")


async def case_dedicated(ctx):
    server = ctx.cli("--ws", "/echo=echo", "--per-message-deflate", "--deflate-context-takeover",
                     *LIMITS)
    header = await echo_all(server.url("/echo"))
    check("no_context_takeover" not in header, f"dedicated mode answer: {header!r}")
    # A smaller window asked by the client is honoured.
    factory = ClientPerMessageDeflateFactory(server_max_window_bits=10, client_max_window_bits=12)
    async with connect(server.url("/echo"), max_size=None, extensions=[factory]) as ws:
        header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check("server_max_window_bits=10" in header, f"answer to a 10-bit window: {header!r}")
        for payload in PAYLOADS:
            await ws.send(payload)
            check((await recv(ws, timeout=10)) == payload, "echo with a 10-bit window")


async def case_bomb(ctx):
    server = ctx.cli("--ws", "/echo=echo", "--per-message-deflate", *LIMITS)
    async with connect(server.url("/echo"), max_size=None) as ws:
        await ws.send(b"\0" * (64 * MIB))  # ~64 KiB on the wire, 64 MiB inflated
        await expect_closed(ws, 1009, what="the decompression bomb")
    async with connect(server.url("/echo")) as ws:  # the server is fine
        await ws.send("still here")
        check_eq(await recv(ws), "still here", "echo after the bomb")


async def case_not_offered(ctx):
    server = ctx.cli("--ws", "/echo=echo", "--per-message-deflate", *LIMITS)
    async with connect(server.url("/echo"), compression=None) as ws:
        check(ws.response_headers.get("Sec-WebSocket-Extensions") is None,
              "an extension was answered although none was offered")
        await ws.send("x" * 10_000)
        check_eq(await recv(ws), "x" * 10_000, "uncompressed echo")


CASES = {
    "shared": case_shared,
    "dedicated": case_dedicated,
    "bomb": case_bomb,
    "not_offered": case_not_offered,
}

if __name__ == "__main__":
    main(CASES)
