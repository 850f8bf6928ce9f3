"""Closing, seen from Python websockets: server close() with code and reason, onClose after
either side's close (and after a dropped connection), denied handshakes, handshake errors,
exceptions escaping handler callbacks."""

import asyncio

import websockets

from aerie_interop import (OP_CLOSE, OP_TEXT, RawClient, TestFailure, check, check_eq, connect,
                           events_dump, expect_closed, http_get, main, parse_close, recv,
                           wait_until)


async def event_lines(server, client_id):
    """The event-log lines about one client, in order."""
    lines = await events_dump(server)
    return [line for line in lines if line.split(" ")[2:3] == [str(client_id)]]


async def wait_close_event(server, app, client_id, timeout=5.0):
    async def find():
        lines = await event_lines(server, client_id)
        return lines if any(line.startswith(f"close {app} ") for line in lines) else None
    return await wait_until(find, timeout, f"onClose of client {client_id} on /{app}")


async def client_id_of(ws):
    hello = await recv(ws, what="the id:N greeting")
    check(hello.startswith("id:"), f"first message {hello!r}, expected id:N")
    return int(hello[3:])


async def case_server_close(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    for code, reason in [(1000, "normal"), (1001, "going away"), (1008, "policy"),
                         (1011, "oops"), (3000, "registered"), (4001, "bye from server"),
                         (4999, ""), (4002, "wörld €")]:
        async with connect(server.url("/close")) as ws:
            await ws.send(f"{code} {reason}")
            # /close sends "after-close" right after close(): that must be a no-op.
            received = await expect_closed(ws, code, reason, what=f"close({code}, {reason!r})")
            check_eq(received, [], f"close({code}): data the client got after close()")
    # A reason longer than a close frame can carry (123 bytes) must still give a valid
    # close frame: truncated (at a character boundary) or dropped, never a protocol error.
    async with connect(server.url("/close")) as ws:
        long_reason = "é" * 100  # 200 bytes
        await ws.send(f"4003 {long_reason}")
        await expect_closed(ws, 4003, what="close(4003, 200-byte reason)")
        check(long_reason.startswith(ws.close_reason) and len(ws.close_reason.encode()) <= 123,
              f"close(4003, 200-byte reason): the client saw reason {ws.close_reason!r}")
    # Codes that must not go on the wire (1005, 1006, 1015, out of range): close() still
    # closes, with a valid code.
    for bad in [1005, 1006, 1015, 999, 5000]:
        async with connect(server.url("/close")) as ws:
            await ws.send(f"{bad} bad code")
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 5)
            except websockets.exceptions.ConnectionClosed:
                pass
            except asyncio.TimeoutError:
                raise TestFailure(f"close({bad}): the connection stayed open")
            check(ws.close_code not in (1005, 1006, 1015) and 1000 <= ws.close_code <= 4999,
                  f"close({bad}): the client saw close code {ws.close_code}")
    # The server's onClose saw the code and reason the server sent.
    lines = await events_dump(server)
    closes = [line for line in lines if line.startswith("close close ")]
    check(any(line.endswith(" 4001 bye from server") for line in closes),
          f"onClose after server close(4001, ...): close events {closes[:10]!r}")


async def case_onclose_order(ctx):
    server = ctx.server("--heartbeat-ms", 0, "--close-period-ms", 1000)
    # 1. The client closes with a code and reason.
    async with connect(server.url("/events")) as ws:
        first = await client_id_of(ws)
        await ws.send("one")
        check_eq(await recv(ws), "one", "echo")
        await ws.close(4000, "client bye")
    check_eq(ws.close_code, 4000, "close code echoed by the server (RFC 6455 5.5.1)")
    lines = await wait_close_event(server, "events", first)
    check_eq(lines, [f"open events {first}", f"data events {first} T 3 one",
                     f"close events {first} 4000 client bye"],
             "callbacks of a client that closed with 4000 (in order, once each)")
    # 2. The server closes (Endpoint::close): onClose gets the server's code and reason.
    async with connect(server.url("/close")) as ws:
        await ws.send("4005 server side")
        await expect_closed(ws, 4005, "server side")
    async def find_close():
        return [line for line in await events_dump(server)
                if line.startswith("close close ") and line.endswith(" 4005 server side")]
    await wait_until(find_close, 5, "onClose(4005, 'server side') after Endpoint::close()")
    # 3. An empty close frame: onClose with 1005 (no status received).
    raw = await RawClient.open(server.port, "/events")
    _, _, hello = await raw.recv_frame(what="the id greeting")
    third = int(hello.decode()[3:])
    await raw.send_frame(OP_CLOSE, b"")
    _, op, payload = await raw.recv_frame(what="the server's answer to an empty close")
    check_eq((op, payload), (OP_CLOSE, b""), "answer to an empty close frame (opcode, payload)")
    await raw.wait_eof(what="TCP close after the close handshake")
    await raw.close()
    lines = await wait_close_event(server, "events", third)
    check_eq(lines[-1], f"close events {third} 1005 ", "onClose after an empty close frame")
    # 4. The client drops TCP (RST) without a close frame, in the middle of a message:
    # onData's buffer() fails (the handler catches it), onClose says 1006.
    raw = await RawClient.open(server.port, "/events")
    _, _, hello = await raw.recv_frame(what="the id greeting")
    fourth = int(hello.decode()[3:])
    await raw.send_frame(OP_TEXT, b"half a mess", fin=False)
    await asyncio.sleep(0.1)
    raw.abort()
    lines = await wait_close_event(server, "events", fourth)
    check_eq(len(lines), 2, f"callbacks of a client that dropped TCP mid-message "
                            f"(open, close; no complete data): {lines!r}")
    check(lines[-1].startswith(f"close events {fourth} 1006"),
          f"onClose after a dropped connection: {lines[-1]!r}, expected code 1006")
    # 5. Clean FIN without close frame.
    raw = await RawClient.open(server.port, "/events")
    _, _, hello = await raw.recv_frame(what="the id greeting")
    fifth = int(hello.decode()[3:])
    await raw.close()
    lines = await wait_close_event(server, "events", fifth)
    check(lines[-1].startswith(f"close events {fifth} 1006"),
          f"onClose after a FIN without close frame: {lines[-1]!r}, expected code 1006")
    # Every client got exactly one onClose.
    lines = await events_dump(server)
    for cid in (first, third, fourth, fifth):
        n = sum(1 for line in lines if line.startswith(f"close events {cid} "))
        check_eq(n, 1, f"number of onClose calls for client {cid}")


async def case_deny(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    # websockets sees the status and headers of the denial.
    try:
        async with connect(server.url("/deny")):
            raise TestFailure("the handshake to /deny succeeded; onHandshake set 403")
    except websockets.exceptions.InvalidStatusCode as e:
        check_eq(e.status_code, 403, "status of the denied handshake (websockets)")
        check_eq(e.headers.get("X-Denied"), "yes", "header set by onHandshake")
    # The body reaches the client too (websockets 10 does not read it: a raw request does).
    status, headers, body = await http_get(server.port, "/deny")
    check_eq((status, body), (403, b"denied by test"), "denied handshake: status and body")
    check("sec-websocket-accept" not in headers, "a denied handshake carries Sec-WebSocket-Accept")
    # Allowed: the same app accepts.
    async with connect(server.url("/deny?allow=1")) as ws:
        await ws.send("let in")
        check_eq(await recv(ws), "let in", "echo on an accepted /deny handshake")
    lines = await events_dump(server)
    opens = [line for line in lines if line.startswith("open deny ")]
    check_eq(len(opens), 1, f"onOpen calls on /deny (only the allowed one): {opens!r}")
    # Handshake checks before onHandshake (Aerys): 405 + Allow, 400, 426 + version, 426.
    async def raw_request(lines_):
        client = await RawClient.open(server.port, "/echo", handshake=False)
        try:
            client.writer.write(("\r\n".join(lines_) + "\r\n\r\n").encode())
            head = await asyncio.wait_for(client.reader.readuntil(b"\r\n\r\n"), 5)
            status_line, *rest = head.decode("latin-1").split("\r\n")
            hdrs = {k.strip().lower(): v.strip() for k, v in
                    (line.split(":", 1) for line in rest if ":" in line)}
            return int(status_line.split(" ")[1]), hdrs
        finally:
            await client.close()
    base = ["Host: x", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    status, hdrs = await raw_request(["POST /echo HTTP/1.1", "Content-Length: 0"] + base)
    check(status == 405 and "GET" in hdrs.get("allow", ""),
          f"POST upgrade: status {status}, Allow {hdrs.get('allow')!r}; expected 405 with GET")
    status, _ = await raw_request(["GET /echo HTTP/1.1"] + [h for h in base if "Key" not in h])
    check_eq(status, 400, "upgrade without Sec-WebSocket-Key: status")
    status, hdrs = await raw_request(["GET /echo HTTP/1.1"] + base[:4] + ["Sec-WebSocket-Version: 8"])
    check(status == 426 and hdrs.get("sec-websocket-version") == "13",
          f"version 8: status {status}, Sec-WebSocket-Version {hdrs.get('sec-websocket-version')!r};"
          " expected 426 with 13")
    status, _ = await raw_request(["GET /echo HTTP/1.1"] + [h for h in base if "Upgrade:" not in h])
    check_eq(status, 426, "upgrade request without Upgrade: websocket: status")


async def case_handler_errors(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    async with connect(server.url("/throw?room=1")) as ws, \
            connect(server.url("/throw")) as bystander:
        check_eq(await recv(ws), "hs:room=1", "onHandshake's value handed to onOpen")
        check_eq(await recv(bystander), "hs:", "onHandshake's value (empty query)")
        await ws.send("badutf8")
        check_eq(await recv(ws), "refused", "send() of invalid UTF-8 (must throw, send nothing)")
        await ws.send("throw")
        await expect_closed(ws, 1011, what="onData threw")
        await bystander.send("still there?")
        check_eq(await recv(bystander), "still there?", "another client after onData threw")


async def case_onopen_close(ctx):
    """onOpen throws: the client is closed with 1011, and the close handshake completes as
    soon as the client answers (not after the close period)."""
    server = ctx.server("--heartbeat-ms", 0, "--close-period-ms", 1500)
    raw = await RawClient.open(server.port, "/throw?open=throw")
    _, op, payload = await raw.recv_frame(what="the close frame after onOpen threw")
    check_eq(op, OP_CLOSE, "opcode of the first frame after onOpen threw")
    check_eq(parse_close(payload)[0], 1011, "close code after onOpen threw")
    await raw.send_frame(OP_CLOSE, RawClient.close_payload(1011))
    took = await raw.wait_eof(timeout=5, what="TCP close after the client answered the close")
    await raw.close()
    check(took < 0.7, f"the server closed TCP {took:.2f} s after the client's close reply "
                      "(expected at once: the close period of 1.5 s ran out instead, so the "
                      "server did not read the reply)")
    async with connect(server.url("/throw")) as ws:
        check_eq(await recv(ws), "hs:", "a new client after onOpen threw")


async def case_slow_open(ctx):
    """While onOpen runs (it waits 300 ms), messages wait for it and a close follows it."""
    server = ctx.server("--heartbeat-ms", 0, "--open-delay-ms", 300)
    # Frames in the same TCP write as the handshake request, and right after it.
    raw = await RawClient.open(server.port, "/slowopen", handshake=False)
    await raw.handshake("/slowopen", early=RawClient.frame(OP_TEXT, "early 1"))
    check_eq(raw.status, 101, "handshake status")
    await raw.send_frame(OP_TEXT, "early 2")
    for expected in ("opened", "early 1", "early 2"):
        _, data, _ = await raw.recv_message(what=repr(expected))
        check_eq(data.decode(), expected, "message order (onOpen's send first, then the echoes)")
    await raw.close()
    # A close frame while onOpen runs: answered once it finished, onClose after onOpen.
    raw = await RawClient.open(server.port, "/slowopen")
    await raw.send_frame(OP_CLOSE, RawClient.close_payload(4000, "early close"))
    code, reason, skipped = await raw.expect_close(what="the answer to a close sent during onOpen")
    check_eq(code, 4000, "close code echoed after onOpen finished")
    await raw.wait_eof(timeout=2, what="TCP close after the close handshake")
    await raw.close()
    # Dropped during onOpen.
    raw = await RawClient.open(server.port, "/slowopen")
    raw.abort()

    async def settled():
        lines = [line for line in await events_dump(server) if " slowopen " in line]
        return lines if sum(line.startswith("close ") for line in lines) == 3 else None
    lines = await wait_until(settled, 5, "three onClose calls on /slowopen")
    by_client = {}
    for line in lines:
        by_client.setdefault(line.split(" ")[2], []).append(line.split(" ")[0])
    check_eq(sorted(by_client.values()), sorted([
        ["open", "open-done", "data", "data", "close"],
        ["open", "open-done", "close"],
        ["open", "open-done", "close"],
    ]), "callbacks per client while onOpen was slow (onData and onClose after onOpen)")


# onopen_close found a bug (close during onOpen: the client's close reply was never read,
# so the handshake ended by the close period); fixed in WsSession::opened().
KNOWN_BUGS = {}

CASES = {
    "server_close": case_server_close,
    "onclose_order": case_onclose_order,
    "deny": case_deny,
    "handler_errors": case_handler_errors,
    "onopen_close": case_onopen_close,
    "slow_open": case_slow_open,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
