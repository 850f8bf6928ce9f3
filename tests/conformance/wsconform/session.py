"""One established connection as a case sees it, and the checks cases share.

The runner opens the connection (either role) and negotiates; a case body then only talks
in messages: send_message() compresses as agreed, read_message() inflates and checks with
the agreed window and context mode, expect_failure() judges how a testee fails the
connection after a violation, close() runs the closing handshake.
"""

from . import deflate, frames
from .report import FAILED, INFORMATIONAL, NON_STRICT


class CaseFailed(Exception):
    """Stops a case body; the verdict was already marked FAILED."""


class Session:
    def __init__(self, peer, agreement, result, limit):
        self.peer = peer
        self.agreement = agreement  # deflate.Agreement, or None (not negotiated)
        self.result = result
        self.limit = limit          # the testee's configured message size limit (bytes)
        self.closed = False
        self.sent_compressed = 0
        self.got_compressed = 0
        self.got_uncompressed = 0
        if agreement:
            ours_client = peer.role == "client"
            send_bits = agreement.client_bits if ours_client else agreement.server_bits
            send_nct = agreement.client_no_context_takeover if ours_client else \
                agreement.server_no_context_takeover
            recv_bits = agreement.server_bits if ours_client else agreement.client_bits
            recv_nct = agreement.server_no_context_takeover if ours_client else \
                agreement.client_no_context_takeover
            self.compressor = deflate.Compressor(send_bits, send_nct)
            self.decompressor = deflate.Decompressor(recv_bits, recv_nct)
            self.recv_desc = f"window {recv_bits}, " + \
                ("no context takeover" if recv_nct else "context takeover")

    def fail(self, note):
        self.result.mark(FAILED, note)
        raise CaseFailed(note)

    # --- sending ----------------------------------------------------------------------
    def encode(self, opcode, data, compress=True):
        """(payload, rsv1) as it goes on the wire."""
        if self.agreement and compress:
            self.sent_compressed += 1
            return self.compressor.compress(data), True
        return data, False

    def send_message(self, opcode, data, compress=True, fragments=1):
        payload, rsv1 = self.encode(opcode, data, compress)
        if fragments <= 1:
            self.peer.send_frame(opcode, payload, rsv1=rsv1)
            return
        step = max(1, -(-len(payload) // fragments))
        chunks = [payload[i:i + step] for i in range(0, len(payload), step)] or [b""]
        wire = b"".join(
            self.peer.frame(opcode if i == 0 else frames.OP_CONT, c, fin=i == len(chunks) - 1,
                            rsv1=rsv1 and i == 0) for i, c in enumerate(chunks))
        self.peer.send(wire)

    # --- receiving --------------------------------------------------------------------
    def read_raw(self, timeout=None):
        """The next Message (wire payload) or Close; framing violations fail the case."""
        try:
            return self.peer.read_message(rsv1_allowed=self.agreement is not None,
                                          timeout=timeout)
        except frames.ProtocolViolation as e:
            self.fail(f"protocol violation by the testee: {e}")
        except frames.PeerClosed as e:
            self.closed = True
            self.fail(f"connection ended unexpectedly: {e}")
        except frames.Timeout as e:
            self.fail(str(e))

    def read_message(self, what, max_size=None):
        """(opcode, data) of the next message, inflated; a close or a failure fails the case."""
        m = self.read_raw()
        if isinstance(m, frames.Close):
            self.closed = True
            self.fail(f"the testee closed ({m}) while {what} was expected")
        if not m.rsv1:
            self.got_uncompressed += 1
            return m.opcode, m.payload
        self.got_compressed += 1
        try:
            return m.opcode, self.decompressor.decompress(m.payload, max_size)
        except deflate.DeflateError as e:
            self.fail(f"{what}: cannot inflate the testee's message with the agreed "
                      f"{self.recv_desc}: {e}")
        except deflate.TooLarge as e:
            self.fail(f"{what}: {e}")

    # --- closing ----------------------------------------------------------------------
    def close(self, code=1000):
        """Our closing handshake: the testee must answer with a close frame."""
        self.peer.send_close(code)
        while True:
            m = self.read_raw()
            if isinstance(m, frames.Close):
                break
            self.result.mark(NON_STRICT, "a data message arrived after our close frame")
        self.closed = True
        if m.code not in (None, code):
            self.result.mark(NON_STRICT, f"our close {code} was answered with {m}")
        self.finish_tcp()

    def finish_tcp(self):
        # RFC 6455 7.1.1: the server closes the TCP connection first.
        if self.peer.role == "client":
            if not self.peer.wait_eof(3.0):
                self.result.mark(NON_STRICT, "the server did not close TCP within 3 s "
                                             "after the closing handshake")

    def expect_failure(self, expected_code, violation, strict_codes=None):
        """After we sent `violation`: the testee must fail the connection.

        A close with expected_code is OK; another error code, or dropping TCP without a
        close frame, is NON-STRICT (still a failed connection); echoing on is FAILED.
        """
        strict_codes = strict_codes or (expected_code,)
        while True:
            try:
                m = self.peer.read_message(rsv1_allowed=self.agreement is not None)
            except frames.PeerClosed:
                self.closed = True
                self.result.mark(NON_STRICT, f"after {violation}: TCP closed without a close "
                                             f"frame (expected {expected_code})")
                return
            except frames.ProtocolViolation as e:
                self.fail(f"after {violation}: protocol violation by the testee: {e}")
            except frames.Timeout:
                self.fail(f"after {violation}: the testee did not fail the connection "
                          f"(no close within {self.peer.timeout:.0f} s)")
            if isinstance(m, frames.Close):
                break
            self.fail(f"after {violation}: the testee went on (sent a message of "
                      f"{len(m.payload)} bytes) instead of failing the connection")
        self.closed = True
        if m.code in strict_codes:
            self.result.info.append(f"closed with {m}")
        elif m.code is None or (frames.valid_close_code(m.code) and m.code != 1000):
            self.result.mark(NON_STRICT, f"after {violation}: closed with {m.code}, "
                                         f"expected {expected_code}")
        else:
            self.result.mark(FAILED, f"after {violation}: closed with {m}, expected "
                                     f"{expected_code}")
        try:
            self.peer.send_close(m.code if m.code is not None else 1000)
        except (frames.PeerClosed, frames.Timeout):
            pass  # the testee may drop TCP right after its close frame
        self.finish_tcp()

    def note_compression(self, compressible):
        """INFORMATIONAL when the testee sent compressible messages uncompressed (allowed)."""
        if not self.agreement:
            return
        total = self.got_compressed + self.got_uncompressed
        self.result.info.append(f"testee sent {self.got_compressed}/{total} messages compressed")
        if compressible and self.got_uncompressed:
            self.result.mark(INFORMATIONAL, f"{self.got_uncompressed} of {total} compressible "
                                            f"messages sent uncompressed (allowed by RFC 7692)")
