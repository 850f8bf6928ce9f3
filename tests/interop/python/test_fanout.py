"""broadcast (to 50 clients, with exceptIds), multicast and their binary forms, with Python
websockets clients. The test server's /multicast app says "id:N" on open and runs
"to:I,J:text" / "binto:" (multicast[Binary]), "except:I,J:text" / "binexcept:"
(broadcast[Binary] with exceptIds) and "all:text" (broadcast to everyone)."""

import asyncio
import contextlib
import os

from aerie_interop import check, check_eq, connect, main, recv

CLIENTS = 50


@contextlib.asynccontextmanager
async def clients(url, count):
    async with contextlib.AsyncExitStack() as stack:
        sockets = await asyncio.gather(*(stack.enter_async_context(connect(url)) for _ in range(count)))
        yield list(sockets)


async def ids_of(sockets):
    ids = []
    for i, ws in enumerate(sockets):
        hello = await recv(ws, what=f"the id of client #{i}")
        check(hello.startswith("id:"), f"client #{i}: first message {hello!r}, expected 'id:N'")
        ids.append(int(hello[3:]))
    check_eq(len(set(ids)), len(ids), "ClientIds are unique")
    return ids


async def expect_nothing_before(ws, marker, what):
    """The next message must be `marker`: nothing else was delivered to this client."""
    got = await recv(ws, what=f"{marker!r} at {what}")
    check_eq(got, marker, f"{what}: next message (a non-recipient got something)")


async def case_broadcast50(ctx):
    """/broadcast: every message goes to every other client (exceptIds = {sender})."""
    server = ctx.server("--connections-per-ip", 200, "--heartbeat-ms", 0)
    async with clients(server.url("/broadcast"), CLIENTS) as sockets:
        senders = [0, 7, 23, 49]
        payloads = {s: [f"text {k} from {s}" for k in range(3)] + [os.urandom(64)] for s in senders}
        # Once a client's handshake completed it is a client: no sleep before broadcasting.
        for s in senders:
            for payload in payloads[s]:
                await sockets[s].send(payload)

        async def collect(i):
            expected = sum(len(p) for s, p in payloads.items() if s != i)
            got = [await recv(sockets[i], what=f"broadcast #{k + 1}/{expected} at client #{i}")
                   for k in range(expected)]
            for s, sent in payloads.items():
                mine = [m for m in got if m in sent]
                if s == i:
                    check(not mine, f"client #{i} got its own broadcast back: {mine[:2]!r}")
                else:
                    check_eq(mine, sent, f"client #{i}: messages from #{s} (all, in order)")
            return got
        await asyncio.gather(*(collect(i) for i in range(CLIENTS)))
        # Nothing more arrives anywhere: a last broadcast is the next message everyone sees.
        await sockets[1].send("last")
        await asyncio.gather(*(expect_nothing_before(sockets[i], "last", f"client #{i}")
                               for i in range(CLIENTS) if i != 1))


async def case_except_ids(ctx):
    """broadcast(data, exceptIds) and broadcastBinary with an arbitrary set of exceptions."""
    server = ctx.server("--connections-per-ip", 200, "--heartbeat-ms", 0)
    async with clients(server.url("/multicast"), CLIENTS) as sockets:
        ids = await ids_of(sockets)
        excluded = set(range(0, CLIENTS, 3)) | {1}  # includes the sender (#0)
        id_list = ",".join(str(ids[i]) for i in sorted(excluded)) + ",123456789"  # + unknown id
        await sockets[0].send(f"except:{id_list}:hello all but a third")
        await sockets[0].send(f"binexcept:{id_list}:binary for the rest")
        await sockets[0].send("all:marker")

        async def check_client(i):
            if i not in excluded:
                check_eq(await recv(sockets[i], what=f"broadcast at #{i}"),
                         "hello all but a third", f"client #{i} (not excepted): text broadcast")
                check_eq(await recv(sockets[i], what=f"binary broadcast at #{i}"),
                         b"binary for the rest", f"client #{i} (not excepted): binary broadcast")
            await expect_nothing_before(sockets[i], "marker", f"client #{i}"
                                        + (" (excepted)" if i in excluded else ""))
        await asyncio.gather(*(check_client(i) for i in range(CLIENTS)))
        # Empty exceptIds: everyone, the sender included.
        await sockets[5].send("except::to everyone")
        for i in range(CLIENTS):
            check_eq(await recv(sockets[i], what=f"broadcast with no exceptions at #{i}"),
                     "to everyone", f"client #{i}: broadcast with empty exceptIds")


async def case_multicast(ctx):
    server = ctx.server("--heartbeat-ms", 0)
    async with clients(server.url("/multicast"), 12) as sockets:
        ids = await ids_of(sockets)
        targets = {0, 3, 5, 8, 11}  # the sender (#0) included
        id_list = ",".join(str(ids[i]) for i in sorted(targets)) + ",987654321"  # + unknown id
        await sockets[0].send(f"to:{id_list}:just for you")
        await sockets[0].send(f"binto:{id_list}:bytes for you")
        await sockets[0].send(f"to:{ids[4]}:once")
        await sockets[0].send("all:marker")
        for i, ws in enumerate(sockets):
            if i in targets:
                check_eq(await recv(ws, what=f"multicast at #{i}"), "just for you",
                         f"client #{i} (target): multicast text")
                check_eq(await recv(ws, what=f"binary multicast at #{i}"), b"bytes for you",
                         f"client #{i} (target): multicastBinary")
            if i == 4:
                check_eq(await recv(ws, what="multicast to #4"), "once", "client #4: multicast")
            await expect_nothing_before(ws, "marker", f"client #{i}"
                                        + (" (target)" if i in targets else " (not a target)"))
        # Multicast to nobody and to only unknown ids: nothing happens, the server goes on.
        await sockets[2].send("to::nobody")
        await sockets[2].send("to:1,2,3:unknown ids")
        await sockets[2].send(f"to:{ids[2]}:self")
        check_eq(await recv(sockets[2], what="multicast to self"), "self", "multicast to self")


KNOWN_BUGS = {}

CASES = {
    "broadcast50": case_broadcast50,
    "except_ids": case_except_ids,
    "multicast": case_multicast,
}

if __name__ == "__main__":
    main(CASES, KNOWN_BUGS)
