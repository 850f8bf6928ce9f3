"""TLS against Python's ssl module (OpenSSL underneath, but none of our code), websockets
10.4 and http.client, in both roles. Every case makes a throwaway CA and certificates at
test time (tests/support/make_test_certs.sh) in its own temporary directory.

Server role (`aerie serve --tls-cert ... --tls-key ...`, cases without a prefix): wss://
echo with and without permessage-deflate, HTTPS static files with keep-alive, a plain-HTTP
request on the TLS port, clients that stall before or during the handshake, SNI with two
certificates, and SIGHUP reloading the certificate files.

Client role (aerie-cat, cases "cat.*"): a websockets server with an ssl context; aerie-cat
--echo must verify it (CA, expiry, host name), say which check failed, and connect to
anything with --insecure (warning on stderr).

    /usr/bin/python3 test_tls.py --cli build/bin/aerie --cat build/bin/aerie-cat \
        --certs-script tests/support/make_test_certs.sh --workers 2 --case echo
"""

import argparse
import asyncio
import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

import websockets
import websockets.exceptions

import aerie_interop
from aerie_interop import Context, TestFailure, check, check_eq, connect, die_with_parent, recv

# The shared harness reads the port from the "http://" listening line; a TLS server prints
# "https://". Widened here, for this process only.
aerie_interop.LISTENING = re.compile(
    r"aerie listening on https?://([0-9.]+):(\d+) \((\d+) workers\)")

MIB = 1024 * 1024
# No throttling, no pings: the echo cases move several MiB quickly.
UNLIMITED = ["--max-message-size", 32 * MIB, "--max-frame-size", 32 * MIB, "--heartbeat-ms", 0,
             "--max-frames-per-second", 0, "--max-bytes-per-minute", 0]
PAYLOADS = ["", "hello over TLS", "\u00e9\u2713\U0001d11e " * 3000, b"\x00\xff" * 5,
            os.urandom(16 * 1024 - 3), os.urandom(16 * 1024 + 7),  # around one TLS record
            "x" * 200_000, os.urandom(3 * MIB), os.urandom(8 * MIB)]


class Certs:
    """The files of make_test_certs.sh, made in the case's temporary directory."""

    def __init__(self, script, directory):
        self.dir = directory
        result = subprocess.run([script, directory], capture_output=True, timeout=30)
        check(result.returncode == 0, f"{script} failed ({result.returncode}): "
                                      f"{result.stderr.decode(errors='replace')}")

    def pem(self, name):
        return os.path.join(self.dir, f"{name}.pem")

    def key(self, name):
        return os.path.join(self.dir, f"{name}.key")

    @property
    def ca(self):
        return self.pem("ca")

    def client_context(self, check_hostname=True):
        """What a careful client uses: the test CA only, host name checked."""
        context = ssl.create_default_context(cafile=self.ca)
        context.check_hostname = check_hostname
        return context

    def server_context(self, name):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.pem(name), self.key(name))
        return context


def tls_flags(certs, *names):
    flags = []
    for name in names:
        flags += ["--tls-cert", certs.pem(name), "--tls-key", certs.key(name)]
    return flags


def wss(server, path, host="localhost"):
    return f"wss://{host}:{server.port}{path}"


def subject_cn(peercert):
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


async def echo_all(ws, payloads):
    for payload in payloads:
        await ws.send(payload)
        echo = await recv(ws, timeout=20, what=f"the echo of {len(payload)} bytes")
        check(type(echo) is type(payload), f"echo of {len(payload)} bytes came back as "
                                           f"{type(echo).__name__}")
        check(echo == payload, f"echo of {len(payload)} bytes differs ({len(echo)} back)")


def https_get(port, path, context, host="localhost"):
    """One GET on a fresh connection (blocking; run it in a thread)."""
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def peer_certificate(port, server_hostname, context):
    """The certificate the server presents to a client sending this SNI name."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_hostname) as tls:
            return tls.getpeercert()


async def ssl_error_of(coro):
    """The SSLError a connection attempt raises (None if it succeeds)."""
    try:
        ws = await coro
    except ssl.SSLError as e:
        return e
    await ws.close()
    return None


async def wait_log(server, text, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(server.stderr_file.name, "rb") as f:
            log = f.read().decode(errors="replace")
        if text in log:
            return log
        await asyncio.sleep(0.05)
    raise TestFailure(f"no {text!r} in the server's log within {timeout} s\n"
                      + server.stderr_tail())


# --- Server role --------------------------------------------------------------------------

async def case_echo(ctx):
    """Text, binary and large messages over wss://, without then with permessage-deflate."""
    certs = ctx.certs
    server = ctx.cli("--ws", "/echo=echo", *UNLIMITED, *tls_flags(certs, "server"))
    url = wss(server, "/echo")
    async with connect(url, ssl=certs.client_context(), max_size=None, compression=None) as ws:
        tls = ws.transport.get_extra_info("ssl_object")
        check(tls is not None, "the connection is not TLS")
        check(tls.version() in ("TLSv1.2", "TLSv1.3"), f"TLS version {tls.version()}")
        check_eq(subject_cn(tls.getpeercert()), "localhost", "certificate subject")
        check_eq(ws.extensions, [], "extensions without an offer")
        await echo_all(ws, PAYLOADS)
        await ws.close(1000, "bye")
        check_eq(ws.close_code, 1000, "close code")
    async with connect(url, ssl=certs.client_context(), max_size=None) as ws:
        header = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        check([e.name for e in ws.extensions] == ["permessage-deflate"],
              f"permessage-deflate not negotiated over TLS (answer: {header!r})")
        await echo_all(ws, PAYLOADS * 2)  # twice: the compression state must hold
    # Many clients at once, each with its own handshake.
    async def one(i):
        async with connect(url, ssl=certs.client_context()) as ws:
            await echo_all(ws, [f"client {i}", os.urandom(50_000)])
    await asyncio.gather(*(one(i) for i in range(20)))


async def case_https(ctx):
    """Static files over HTTPS with http.client: two requests on one kept-alive connection."""
    certs = ctx.certs
    root = ctx.path("www")
    os.mkdir(root)
    small = b"<h1>hello over TLS</h1>\n"
    big = os.urandom(MIB + 12345)  # many TLS records
    with open(os.path.join(root, "index.html"), "wb") as f:
        f.write(small)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    server = ctx.cli("--root", root, *tls_flags(certs, "server"))

    def keep_alive():
        conn = http.client.HTTPSConnection("localhost", server.port,
                                           context=certs.client_context(), timeout=5)
        try:
            results = []
            sockets = []
            for path in ["/index.html", "/big.bin", "/missing.txt"]:
                conn.request("GET", path)
                response = conn.getresponse()
                results.append((response.status, response.read(),
                                response.getheader("Connection", "")))
                sockets.append(conn.sock)  # http.client reconnects only if it was closed
            return results, sockets, conn.sock.version()
        finally:
            conn.close()

    results, sockets, version = await asyncio.to_thread(keep_alive)
    check_eq(results[0][0], 200, "status of /index.html")
    check_eq(results[0][1], small, "body of /index.html")
    check_eq(results[1][0], 200, "status of /big.bin")
    check(results[1][1] == big, f"body of /big.bin: {len(results[1][1])} bytes, expected "
                                f"{len(big)} (or different content)")
    check_eq(results[2][0], 404, "status of /missing.txt")
    check(all(s is sockets[0] and s is not None for s in sockets),
          "the three requests did not share one connection (the server closed it: "
          f"Connection headers {[r[2] for r in results]})")
    check(version in ("TLSv1.2", "TLSv1.3"), f"TLS version {version}")


async def case_plain_http(ctx):
    """Plain HTTP (and garbage) on the TLS port: the connection is closed, no HTTP answer in
    clear, and the server keeps serving TLS clients."""
    certs = ctx.certs
    server = ctx.cli("--ws", "/echo=echo", *tls_flags(certs, "server"))
    for request in [b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
                    b"GET /echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                    b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                    os.urandom(4096)]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request)
        await writer.drain()
        try:
            answer = await asyncio.wait_for(reader.read(), 5)  # until EOF
        except asyncio.TimeoutError:
            raise TestFailure(f"the server kept a plain-text connection open 5 s after "
                              f"{request[:20]!r}")
        except ConnectionResetError:
            answer = b""
        writer.close()
        check(not answer.startswith(b"HTTP/"), f"the server answered in clear text: {answer!r}")
        # Anything sent must be a TLS alert record (content type 21), if anything.
        check(answer == b"" or answer[0] == 21, f"unexpected bytes before close: {answer[:40]!r}")
        check(server.alive(), f"the server died after {request[:20]!r}")
        async with connect(wss(server, "/echo"), ssl=certs.client_context()) as ws:
            await echo_all(ws, ["after plain text", b"\x01\x02"])


async def case_stall(ctx):
    """Clients that stall: TCP with nothing sent, half a ClientHello, and a TLS session with
    half a request. Others are served meanwhile; each is dropped by the server's timeouts
    (aerie serve has no flag for them: the defaults, header 10 s and keep-alive 15 s)."""
    certs = ctx.certs
    server = ctx.cli("--ws", "/echo=echo", "--root", os.path.dirname(__file__),
                     *tls_flags(certs, "server"))
    port = server.port
    started = time.monotonic()
    silent = await asyncio.open_connection("127.0.0.1", port)
    half_hello = await asyncio.open_connection("127.0.0.1", port)
    # The first bytes of a real ClientHello: a handshake record that never completes.
    hello = bytearray()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = certs.client_context().wrap_bio(incoming, outgoing, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        hello = outgoing.read()
    check(len(hello) > 20, f"no ClientHello bytes to send ({len(hello)})")
    half_hello[1].write(hello[:len(hello) // 2])
    await half_hello[1].drain()
    half_request = await asyncio.open_connection("127.0.0.1", port, ssl=certs.client_context(),
                                                 server_hostname="localhost")
    half_request[1].write(b"GET /aerie_interop.py HTTP/1.1\r\nHost: local")
    await half_request[1].drain()

    # Everyone else is served while those three hang.
    for i in range(3):
        async with connect(wss(server, "/echo"), ssl=certs.client_context()) as ws:
            await echo_all(ws, [f"served while others stall ({i})", os.urandom(70_000)])
        status, body = await asyncio.to_thread(https_get, port, "/aerie_interop.py",
                                               certs.client_context())
        check_eq(status, 200, "status of a GET while others stall")
        check(b"Shared harness" in body, "body of a GET while others stall")
        await asyncio.sleep(1)

    async def dropped(stream, what, limit):
        reader, writer = stream
        try:
            data = await asyncio.wait_for(reader.read(), limit - (time.monotonic() - started))
        except asyncio.TimeoutError:
            raise TestFailure(f"{what}: still open {limit} s after it stalled")
        except (ConnectionResetError, ssl.SSLError):
            data = b""
        writer.close()
        return data, time.monotonic() - started

    results = await asyncio.gather(dropped(silent, "TCP with nothing sent", 20),
                                   dropped(half_hello, "half a ClientHello", 20),
                                   dropped(half_request, "half a request over TLS", 15))
    check_eq(results[0][0], b"", "bytes sent to the silent client")
    answer = results[2][0]
    check(answer == b"" or answer.startswith(b"HTTP/1.1 408"),
          f"answer to the half request: {answer[:60]!r}")
    check(server.alive(), "the server died")
    async with connect(wss(server, "/echo"), ssl=certs.client_context()) as ws:
        await echo_all(ws, ["after the stalls"])
    print(f"dropped after {', '.join(f'{r[1]:.1f} s' for r in results)} "
          f"(silent, half ClientHello, half request)")


async def case_sni(ctx):
    """Two certificates: the SNI name picks one; no name or an unknown one gets the first."""
    certs = ctx.certs
    server = ctx.cli("--ws", "/echo=echo", *tls_flags(certs, "server", "other"))
    port = server.port
    loose = certs.client_context(check_hostname=False)  # to see what is presented
    for name, expected in [("localhost", "localhost"), ("other.test", "other.test"),
                           ("unknown.test", "localhost"), (None, "localhost")]:
        cert = await asyncio.to_thread(peer_certificate, port, name, loose)
        check_eq(subject_cn(cert), expected, f"certificate presented for SNI {name!r}")
    # And with the name checked, both names verify; the WebSocket works under each.
    for name in ["localhost", "other.test"]:
        cert = await asyncio.to_thread(peer_certificate, port, name, certs.client_context())
        check_eq(subject_cn(cert), name, f"verified certificate for {name}")
        async with connect(f"wss://127.0.0.1:{port}/echo", ssl=certs.client_context(),
                           server_hostname=name) as ws:
            tls = ws.transport.get_extra_info("ssl_object")
            check_eq(subject_cn(tls.getpeercert()), name, f"wss:// certificate for {name}")
            await echo_all(ws, [f"hello {name}", os.urandom(1000)])
    # An IP address sends no SNI: the default certificate, which names 127.0.0.1.
    async with connect(f"wss://127.0.0.1:{port}/echo", ssl=certs.client_context()) as ws:
        await echo_all(ws, ["by address"])


async def case_reload(ctx):
    """SIGHUP reads the files again: new connections get the new certificate, open ones go
    on; a broken pair is refused and the old one stays."""
    certs = ctx.certs
    live = ctx.path("live")
    os.mkdir(live)
    cert, key = os.path.join(live, "cert.pem"), os.path.join(live, "key.pem")

    def install(name, key_name=None):
        # Atomic replacement, as a certificate renewal tool would do it.
        for source, target in [(certs.pem(name), cert), (certs.key(key_name or name), key)]:
            shutil.copyfile(source, target + ".new")
            os.replace(target + ".new", target)

    install("server")
    server = ctx.cli("--ws", "/echo=echo", "--tls-cert", cert, "--tls-key", key)
    url = wss(server, "/echo")
    reloads = 0

    async def sighup(expect):
        nonlocal reloads
        reloads += 1
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(server.stderr_file.name, "rb") as f:
                if f.read().decode(errors="replace").count(expect) >= reloads:
                    return
            await asyncio.sleep(0.05)
        raise TestFailure(f"SIGHUP #{reloads}: no {expect!r} in the log\n" + server.stderr_tail())

    async with connect(url, ssl=certs.client_context()) as old:
        await echo_all(old, ["before the reload"])
        install("expired")
        await sighup("TLS certificates reloaded")
        error = await ssl_error_of(connect(url, ssl=certs.client_context()))
        check(isinstance(error, ssl.SSLCertVerificationError),
              f"a new connection after reloading the expired certificate: {error!r}")
        check("certificate has expired" in error.verify_message,
              f"verification error: {error.verify_message!r}")
        await echo_all(old, ["the open connection goes on", os.urandom(100_000)])

        # A certificate with another certificate's key: refused, the expired one stays.
        shutil.copyfile(certs.pem("server"), cert)
        shutil.copyfile(certs.key("other"), key)
        # (not through sighup(): this one logs an error, not "reloaded", so the count of
        # "reloaded" lines sighup() waits for stays where it is)
        server.proc.send_signal(signal.SIGHUP)
        await wait_log(server, "certificates not reloaded")
        check(server.alive(), "the server died on a mismatched key")
        error = await ssl_error_of(connect(url, ssl=certs.client_context()))
        check(isinstance(error, ssl.SSLCertVerificationError) and
              "expired" in error.verify_message,
              f"after a refused reload the expired certificate should stay: {error!r}")

        install("server")
        await sighup("TLS certificates reloaded")
        async with connect(url, ssl=certs.client_context()) as new:
            await echo_all(new, ["after the second reload"])
        await echo_all(old, ["still the first connection"])


# --- Client role: aerie-cat against websockets.serve(ssl=...) ---------------------------

class Cat:
    """aerie-cat as a subprocess; output collected."""

    def __init__(self, argv):
        self.argv = argv

    async def run(self, timeout=15):
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE, preexec_fn=die_with_parent)
        try:
            out, err = await asyncio.wait_for(self.proc.communicate(), timeout)
        except asyncio.TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise TestFailure(f"aerie-cat still running after {timeout} s: {' '.join(self.argv)}")
        self.code = self.proc.returncode
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        return self

    def describe(self):
        return f"aerie-cat exit {self.code}; stdout {self.stdout[-1500:]!r}; stderr {self.stderr[-1500:]!r}"


async def tls_serve(ctx, cert_name, handler=None, context=None):
    """A websockets server over TLS; `handler` defaults to the echo script."""
    context = context or ctx.certs.server_context(cert_name)
    seen = []

    async def default_handler(ws, path=None):
        seen.append(ws)
        await echo_script(ws)

    server = await websockets.serve(handler or default_handler, "127.0.0.1", 0, ssl=context,
                                    max_size=None, ping_interval=None)
    return server, server.sockets[0].getsockname()[1], seen


async def echo_script(ws):
    """Sends messages, checks aerie-cat --echo returns each with its type, closes 1000."""
    tls = ws.transport.get_extra_info("ssl_object")
    check(tls is not None, "not a TLS connection")
    for payload in ["hello from a Python TLS server", b"\x00\x01\xfe\xff", "",
                    "\u00e9\u2713" * 20_000, os.urandom(MIB + 3)]:
        await ws.send(payload)
        echo = await recv(ws, timeout=10, what=f"the echo of {len(payload)} bytes")
        check(type(echo) is type(payload) and echo == payload,
              f"echo of {len(payload)} bytes differs ({type(echo).__name__}, {len(echo)} long)")
    await ws.close(1000, "done")


def cat_argv(ctx, url, *flags):
    check(ctx.args.cat, "this case needs --cat PATH (aerie-cat)")
    return [ctx.args.cat, "--echo", "--show-close", *flags, url]


async def cat_against(ctx, cert_name, *flags, host="localhost", handler=None, context=None):
    server, port, seen = await tls_serve(ctx, cert_name, handler, context)
    try:
        cat = await Cat(cat_argv(ctx, f"wss://{host}:{port}/", *flags)).run()
        return cat, seen
    finally:
        server.close()
        await server.wait_closed()


async def case_cat_echo(ctx):
    for host in ["localhost", "127.0.0.1"]:  # a name, and an address in the certificate
        cat, seen = await cat_against(ctx, "server", "--cacert", ctx.certs.ca, host=host)
        check(cat.code == 0, f"{host}: {cat.describe()}")
        check_eq(len(seen), 1, f"{host}: connections the server saw")
        check("closed: 1000 done" in cat.stderr, f"{host}: {cat.describe()}")
        check("warning" not in cat.stderr, f"{host}: a warning without --insecure: {cat.describe()}")
    # --capath: a directory of hashed CA names, as `openssl rehash` (c_rehash) makes them.
    capath = ctx.path("capath")
    os.mkdir(capath)
    shutil.copyfile(ctx.certs.ca, os.path.join(capath, "ca.pem"))
    subject_hash = subprocess.run(["openssl", "x509", "-noout", "-hash", "-in", ctx.certs.ca],
                                  capture_output=True, text=True, check=True).stdout.strip()
    os.symlink("ca.pem", os.path.join(capath, f"{subject_hash}.0"))
    cat, seen = await cat_against(ctx, "server", "--capath", capath)
    check(cat.code == 0 and len(seen) == 1, f"--capath: {cat.describe()}")


async def expect_refused(ctx, cert_name, pattern, *flags, host="localhost"):
    cat, seen = await cat_against(ctx, cert_name, *flags, host=host)
    check_eq(cat.code, 1, f"exit code with the {cert_name} certificate ({cat.describe()})")
    check_eq(len(seen), 0, f"WebSocket connections the server saw with the {cert_name} certificate")
    check(re.search(r"aerie-cat: TLS handshake with \S+: certificate verification failed: "
                    + pattern, cat.stderr),
          f"stderr should name the failed check /{pattern}/: {cat.describe()}")
    check(cat.stdout == "", f"stdout with a failed handshake: {cat.stdout!r}")


async def case_cat_expired(ctx):
    await expect_refused(ctx, "expired", "certificate has expired", "--cacert", ctx.certs.ca)


async def case_cat_wrongname(ctx):
    await expect_refused(ctx, "wrongname", "hostname mismatch", "--cacert", ctx.certs.ca)
    # An address the certificate does not name is a mismatch too (server.pem has no ::2,
    # but other.pem has no address at all).
    await expect_refused(ctx, "other", "(hostname|IP address) mismatch", "--cacert",
                         ctx.certs.ca, host="127.0.0.1")


async def case_cat_selfsigned(ctx):
    await expect_refused(ctx, "selfsigned", "self[- ]signed certificate", "--cacert",
                         ctx.certs.ca)


async def case_cat_unknown_ca(ctx):
    # No --cacert: the system store, which does not know the test CA.
    await expect_refused(ctx, "server", "unable to get local issuer certificate")


async def case_cat_insecure(ctx):
    for name in ["selfsigned", "expired", "wrongname"]:
        cat, seen = await cat_against(ctx, name, "--insecure")
        check(cat.code == 0 and len(seen) == 1, f"--insecure with {name}: {cat.describe()}")
        check(re.search(r"warning: --insecure", cat.stderr),
              f"--insecure without its warning: {cat.describe()}")


async def case_cat_client_cert(ctx):
    """A server that requires a client certificate from the test CA."""
    context = ctx.certs.server_context("server")
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(ctx.certs.ca)
    subjects = []

    async def handler(ws, path=None):
        subjects.append(subject_cn(ws.transport.get_extra_info("peercert")))
        await echo_script(ws)

    cat, _ = await cat_against(ctx, "server", "--cacert", ctx.certs.ca, "--cert",
                               ctx.certs.pem("client"), "--key", ctx.certs.key("client"),
                               handler=handler, context=context)
    check(cat.code == 0, f"with a client certificate: {cat.describe()}")
    check_eq(subjects, ["aerie test client"], "client certificates the server saw")
    # Without one the server refuses: aerie-cat fails. Python's asyncio closes without
    # sending its alert, so with TLS 1.3 (where the client's handshake is already done when
    # the server checks) the client sees only a closed connection; with TLS 1.2 the
    # handshake itself cannot finish, and aerie-cat must say so.
    cat, _ = await cat_against(ctx, "server", "--cacert", ctx.certs.ca, handler=handler,
                               context=context)
    check_eq(cat.code, 1, f"exit code without a client certificate ({cat.describe()})")
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    cat, _ = await cat_against(ctx, "server", "--cacert", ctx.certs.ca, handler=handler,
                               context=context)
    check_eq(cat.code, 1, f"exit code without a client certificate, TLS 1.2 ({cat.describe()})")
    check("TLS handshake with localhost" in cat.stderr,
          f"stderr without a client certificate, TLS 1.2: {cat.describe()}")
    check_eq(len(subjects), 1, "connections accepted without a client certificate")


CASES = {
    "echo": case_echo,
    "https": case_https,
    "plain_http": case_plain_http,
    "stall": case_stall,
    "sni": case_sni,
    "reload": case_reload,
    "cat.echo": case_cat_echo,
    "cat.expired": case_cat_expired,
    "cat.wrongname": case_cat_wrongname,
    "cat.selfsigned": case_cat_selfsigned,
    "cat.unknown_ca": case_cat_unknown_ca,
    "cat.insecure": case_cat_insecure,
    "cat.client_cert": case_cat_client_cert,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cli", help="aerie binary (aerie serve), for the server cases")
    parser.add_argument("--cat", help="aerie-cat binary, for the cat.* cases")
    parser.add_argument("--certs-script", required=True, help="tests/support/make_test_certs.sh")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    parser.add_argument("--timeout", type=float, default=55)
    args = parser.parse_args()
    timeout = max(int(args.timeout), 10)

    ctx = Context(args)

    def watchdog(*_):  # servers and aerie-cat die with us (PR_SET_PDEATHSIG)
        print(f"FAIL: {args.case}: watchdog: still running after {timeout} s", flush=True)
        for server in ctx.servers:
            server.kill()
            print(server.stderr_tail(), flush=True)
        os._exit(1)
    signal.signal(signal.SIGALRM, watchdog)
    signal.alarm(timeout)
    started = time.monotonic()
    failure = None
    try:
        ctx.certs = Certs(args.certs_script, ctx.path("certs"))
        asyncio.run(asyncio.wait_for(CASES[args.case](ctx), timeout - 5))
        for server in ctx.servers:  # every server still running must stop cleanly
            if server.exit_code is None:
                check(server.alive(), f"{server.name} died during the case "
                                      f"(exit {server.proc.poll()})")
                check_eq(server.terminate(), 0, f"{server.name} exit code after SIGTERM")
    except TestFailure as e:
        failure = str(e)
    except asyncio.TimeoutError:
        failure = f"case timed out after {timeout - 5} s"
    except Exception:
        failure = "unexpected exception:\n" + traceback.format_exc()
    finally:
        for server in ctx.servers:
            server.kill()
    name = f"test_tls.py {args.case} (workers {args.workers})"
    if failure is not None:
        for server in ctx.servers[-3:]:
            print(server.stderr_tail())
    for server in ctx.servers:
        server.cleanup()
    shutil.rmtree(ctx.tmpdir, ignore_errors=True)
    if failure is None:
        print(f"PASS: {name} in {time.monotonic() - started:.2f} s")
        sys.exit(0)
    print(f"FAIL: {name}: {failure}")
    sys.exit(1)


if __name__ == "__main__":
    main()
