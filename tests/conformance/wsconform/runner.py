"""Runs cases in either role.

Testee = server: the suite connects as a raw client for each case, offers the case's
extensions, judges the answer, then runs the case body.
Testee = client: the suite listens as a raw server; for each case it starts the client
command with ws://127.0.0.1:P/<case id>, answers the client's offer with the case's
parameters, runs the body, and checks the client process exits after the close.
"""

import re
import socket
import subprocess
import tempfile
import threading
import time

from . import deflate, frames
from .report import FAILED, INFORMATIONAL, CaseResult
from .session import CaseFailed, Session

LISTENING = re.compile(r"listening on (?:https?|wss?)://(?:127\.0\.0\.1|localhost|\[::1\]):(\d+)")


class Spawned:
    """A testee server process; its output is collected (and drained, so it never blocks)."""

    def __init__(self, cmd):
        self.cmd = cmd
        self.lines = []
        self.port = None
        self._found = threading.Event()
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, text=True, errors="replace")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            m = LISTENING.search(line)
            if m and self.port is None:
                self.port = int(m.group(1))
                self._found.set()
        self._found.set()  # exited: wait_port sees port None

    def wait_port(self, timeout):
        self._found.wait(timeout)
        return self.port

    def log_since(self, mark):
        return "".join(self.lines[mark:])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _run_body(case, session):
    case.body(session)
    if not session.closed:
        session.close()


def _error(result, e):
    """Turns an exception escaping a case into its verdict."""
    if isinstance(e, CaseFailed):
        return  # already marked
    if isinstance(e, frames.ProtocolViolation):
        result.mark(FAILED, f"protocol violation by the testee: {e}")
    elif isinstance(e, (frames.PeerClosed, frames.Timeout, OSError)):
        result.mark(FAILED, f"connection failed: {e}")
    else:
        raise e


class RawContext:
    """What a case that does its own opening handshake gets (testee = server)."""

    def __init__(self, peer, host, port, path, result, timeout):
        self.peer, self.host, self.port, self.path = peer, host, port, path
        self.result, self.timeout = result, timeout

    def connect(self):
        """Another connection to the testee (e.g. to check it still serves)."""
        sock = socket.create_connection((self.host, self.port), self.timeout)
        return frames.Peer(sock, "client", self.timeout)


def run_against_server(case, host, port, path, limit, timeout):
    """One case with the testee as server."""
    result = CaseResult(case)
    try:
        sock = socket.create_connection((host, port), timeout)
    except OSError as e:
        result.mark(FAILED, f"cannot connect to {host}:{port}: {e}")
        return result
    peer = frames.Peer(sock, "client", timeout)
    try:
        if getattr(case, "raw", None):  # the case does its own handshake (category hs)
            case.raw(RawContext(peer, host, port, path, result, timeout))
            return result
        offer = deflate.format_extensions(case.offers) if case.offers else None
        status, headers = frames.client_handshake(peer, host, port, path, offer)
        answer = frames.header_value(headers, "sec-websocket-extensions")
        if offer or answer:
            result.info.append(f"offer `{offer}`, answer `{answer}`")
        if status != 101:
            result.mark(case.refusal or FAILED, f"the handshake was refused with HTTP {status}")
            return result
        if not case.offers and answer:
            result.mark(FAILED, f"an extension nobody offered was accepted: {answer!r}")
            return result
        agreement, error, _ = deflate.check_response(case.offers, answer)
        if error:
            result.mark(FAILED, error)
            return result
        if agreement is None and case.offers:
            result.mark(INFORMATIONAL, "permessage-deflate declined")
        session = Session(peer, agreement, result, limit)
        if agreement is None and case.violation and case.offers:  # needs compression agreed
            session.close()
            return result
        _run_body(case, session)
    except Exception as e:  # noqa: BLE001 - every failure becomes a verdict
        _error(result, e)
    finally:
        sock.close()
    return result


class ClientHarness:
    """The suite as a raw server for a testee client started once per case."""

    def __init__(self, command, limit, timeout, persistent=False):
        self.command = command  # url -> argv
        self.limit = limit
        self.timeout = timeout
        # persistent: one client process reconnects for every case (it gets the base URL);
        # started again if it exits. Saves a process start per case (Node: ~0.3 s).
        self.persistent = persistent
        self.proc = None
        self.stderr = None
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]

    def close(self):
        self.listener.close()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _run_persistent(self, case):
        result = CaseResult(case)
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                result.info.append(f"the client had exited with {self.proc.returncode}: "
                                   "started again")
            if self.stderr is None:
                self.stderr = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(self.command(f"ws://127.0.0.1:{self.port}/"),
                                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=self.stderr)
        conn = None
        try:
            conn = self._accept(self.proc, result)
            if conn:
                self._serve(case, frames.Peer(conn, "server", self.timeout), result)
        except Exception as e:  # noqa: BLE001
            _error(result, e)
        finally:
            if conn:
                conn.close()
        return result

    def run(self, case):
        if self.persistent:
            return self._run_persistent(case)
        result = CaseResult(case)
        url = f"ws://127.0.0.1:{self.port}/{case.id}"
        stderr = tempfile.TemporaryFile()
        proc = subprocess.Popen(self.command(url), stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=stderr)
        conn = None
        try:
            conn = self._accept(proc, result)
            if conn:
                self._serve(case, frames.Peer(conn, "server", self.timeout), result)
        except Exception as e:  # noqa: BLE001
            _error(result, e)
        finally:
            if conn:
                conn.close()
            self._reap(proc, result, case)
            stderr.seek(0)
            if result.verdict != "OK":
                result.testee_log = stderr.read().decode("utf-8", "replace")
            stderr.close()
        return result

    def _accept(self, proc, result):
        deadline = time.monotonic() + self.timeout
        self.listener.settimeout(0.1)
        while time.monotonic() < deadline:
            try:
                conn, _ = self.listener.accept()
                return conn
            except socket.timeout:
                if proc.poll() is not None:
                    result.mark(FAILED, f"the client exited with {proc.returncode} "
                                        "without connecting")
                    return None
        result.mark(FAILED, f"the client did not connect within {self.timeout:.0f} s")
        return None

    def _serve(self, case, peer, result):
        _, headers = frames.server_read_request(peer)
        if getattr(case, "plain", False):  # no extension: whatever the client offered
            frames.server_accept(peer, headers)
            _run_body(case, Session(peer, None, result, self.limit))
            return
        offered = frames.header_value(headers, "sec-websocket-extensions")
        try:
            exts = deflate.parse_extensions(offered)
        except ValueError as e:
            result.mark(FAILED, f"unparsable Sec-WebSocket-Extensions {offered!r}: {e}")
            frames.server_accept(peer, headers)
            Session(peer, None, result, self.limit).close()
            return
        pmd = [params for name, params in exts if name == deflate.NAME]
        agreement, why = None, "no permessage-deflate offered"
        for params in pmd:
            agreement, why = deflate.answer_offer(params, **case.answer)
            if agreement:
                break
        if not agreement and pmd and "did not offer" in why:
            # The case's parameter cannot be answered to this offer: run with a plain accept.
            result.mark(INFORMATIONAL, f"{why}: answered without it")
            agreement, why = deflate.answer_offer(pmd[0])
        result.info.append(f"offer `{offered}`, answer "
                           f"`{agreement.response if agreement else None}`")
        if not agreement:
            result.mark(FAILED, f"{why} (Sec-WebSocket-Extensions: {offered!r})")
            frames.server_accept(peer, headers)
            Session(peer, None, result, self.limit).close()
            return
        frames.server_accept(peer, headers, agreement.response)
        _run_body(case, Session(peer, agreement, result, self.limit))

    def _reap(self, proc, result, case):
        try:
            rc = proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            result.mark(FAILED, "the client did not exit within 5 s after the connection ended")
            return
        if rc != 0 and not case.violation:
            result.mark(FAILED, f"the client exited with {rc}")
        elif rc != 0:
            result.info.append(f"the client exited with {rc}")


def run_cases(cases, run_one, on_result):
    results = []
    for case in cases:
        t0 = time.monotonic()
        r = run_one(case)
        r.duration = time.monotonic() - t0
        on_result(r)
        results.append(r)
    return results
