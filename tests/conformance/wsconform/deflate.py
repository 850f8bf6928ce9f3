"""permessage-deflate (RFC 7692), written from the RFC, independent of the testees.

Codec: raw deflate (zlib wbits=-N), each message ends with a sync flush whose trailing
00 00 ff ff is removed on sending and appended again before inflating (7.2.1, 7.2.2).
With context takeover one (de)compressor lives for the whole connection; without it a
fresh one per message. Inflating with exactly the agreed window is what makes the window
checks strict: zlib rejects a back-reference farther than its window ("invalid distance
too far back"), and a fresh inflater rejects references into a previous message, so a
testee that ignores server_max_window_bits or *_no_context_takeover fails to inflate here.

Negotiation: offers and responses as lists of (name, [(param, value or None)]), so a case
can write malformed offers too.
"""

import re
import zlib

NAME = "permessage-deflate"
TAIL = b"\x00\x00\xff\xff"
_PARAMS = ("server_no_context_takeover", "client_no_context_takeover",
           "server_max_window_bits", "client_max_window_bits")


class DeflateError(Exception):
    pass


class TooLarge(Exception):
    pass


class Compressor:
    def __init__(self, window_bits=15, no_context_takeover=False, level=6):
        # zlib cannot write raw deflate with an 8-bit window; 9 is the smallest it does.
        self.window_bits = max(9, window_bits)
        self.no_context_takeover = no_context_takeover
        self.level = level
        self._c = None

    def compress(self, data):
        if self._c is None or self.no_context_takeover:
            self._c = zlib.compressobj(self.level, zlib.DEFLATED, -self.window_bits)
        out = self._c.compress(data) + self._c.flush(zlib.Z_SYNC_FLUSH)
        assert out.endswith(TAIL)
        return out[:-4]


class Decompressor:
    def __init__(self, window_bits=15, no_context_takeover=False):
        self.window_bits = window_bits
        self.no_context_takeover = no_context_takeover
        self._d = None

    def decompress(self, data, max_size=None):
        # A BFINAL block ends the stream (allowed, 7.2.3.3): the next message starts afresh.
        if self._d is None or self.no_context_takeover or self._d.eof:
            self._d = zlib.decompressobj(-self.window_bits)
        limit = 0 if max_size is None else max_size + 1
        try:
            out = self._d.decompress(data + TAIL, limit)
        except zlib.error as e:
            raise DeflateError(str(e)) from None
        if max_size is not None and (len(out) > max_size or self._d.unconsumed_tail):
            raise TooLarge(f"inflates to more than {max_size} bytes")
        return out


def compress_once(data, window_bits=15):
    return Compressor(window_bits, True).compress(data)


# --- header syntax (RFC 6455 9.1) ----------------------------------------------------------
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def _split(text, sep):
    """Splits on sep outside quoted strings."""
    parts, cur, quoted, escape = [], [], False, False
    for ch in text:
        if escape:
            cur.append(ch)
            escape = False
        elif quoted and ch == "\\":
            cur.append(ch)
            escape = True
        elif ch == '"':
            cur.append(ch)
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if quoted:
        raise ValueError("unterminated quoted string")
    parts.append("".join(cur))
    return parts


def parse_extensions(header):
    """'a; x=1, b' -> [('a', [('x', '1')]), ('b', [])]; ValueError on bad syntax."""
    result = []
    if header is None:
        return result
    for item in _split(header, ","):
        if not item.strip():
            continue  # empty list elements are allowed (RFC 9110 5.6.1)
        pieces = [p.strip() for p in _split(item, ";")]
        if not _TOKEN.match(pieces[0]):
            raise ValueError(f"bad extension name {pieces[0]!r}")
        params = []
        for p in pieces[1:]:
            name, eq, value = p.partition("=")
            name, value = name.strip(), value.strip()
            if not _TOKEN.match(name):
                raise ValueError(f"bad parameter name {name!r}")
            if eq:
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = re.sub(r"\\(.)", r"\1", value[1:-1])
                if not value:
                    raise ValueError(f"empty value for {name}")
                params.append((name, value))
            else:
                params.append((name, None))
        result.append((pieces[0], params))
    return result


def format_extensions(extensions):
    out = []
    for name, params in extensions:
        out.append("; ".join([name] + [p if v is None else f"{p}={v}" for p, v in params]))
    return ", ".join(out)


# --- permessage-deflate parameters (RFC 7692 7) ----------------------------------------------
class Params:
    """One offer or response, validated. client_max_window_bits: None absent, True bare."""

    def __init__(self):
        self.server_no_context_takeover = False
        self.client_no_context_takeover = False
        self.server_max_window_bits = None
        self.client_max_window_bits = None

    def __repr__(self):
        return format_extensions([(NAME, self.to_list())])

    def to_list(self):
        out = []
        if self.server_no_context_takeover:
            out.append(("server_no_context_takeover", None))
        if self.client_no_context_takeover:
            out.append(("client_no_context_takeover", None))
        if self.server_max_window_bits is not None:
            out.append(("server_max_window_bits", str(self.server_max_window_bits)))
        if self.client_max_window_bits is True:
            out.append(("client_max_window_bits", None))
        elif self.client_max_window_bits is not None:
            out.append(("client_max_window_bits", str(self.client_max_window_bits)))
        return out


def _bits(value):
    if value is None or not re.fullmatch(r"[1-9][0-9]?", value) or not 8 <= int(value) <= 15:
        return None
    return int(value)


def parse_params(params, response):
    """(Params, None) or (None, why it must be declined / is invalid)."""
    p, seen = Params(), set()
    for name, value in params:
        if name not in _PARAMS:
            return None, f"unknown parameter {name}"
        if name in seen:
            return None, f"duplicate parameter {name}"
        seen.add(name)
        if name.endswith("no_context_takeover"):
            if value is not None:
                return None, f"{name} takes no value"
            setattr(p, name, True)
        elif name == "server_max_window_bits" or value is not None or response:
            bits = _bits(value)
            if bits is None:
                return None, f"{name}={value} is not 8..15"
            setattr(p, name, bits)
        else:
            p.client_max_window_bits = True  # bare in an offer: "I support it"
    return p, None


def make_offer(server_no_context_takeover=False, client_no_context_takeover=False,
               server_max_window_bits=None, client_max_window_bits=None):
    p = Params()
    p.server_no_context_takeover = server_no_context_takeover
    p.client_no_context_takeover = client_no_context_takeover
    p.server_max_window_bits = server_max_window_bits
    p.client_max_window_bits = client_max_window_bits
    return (NAME, p.to_list())


class Agreement:
    """What was agreed, from the RFC's side names: server_* = what the server sends."""

    def __init__(self, server_no_context_takeover, client_no_context_takeover, server_bits,
                 client_bits, response):
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_bits = server_bits
        self.client_bits = client_bits
        self.response = response

    def describe(self):
        return (f"server: {'no ' if self.server_no_context_takeover else ''}context takeover, "
                f"window {self.server_bits}; client: "
                f"{'no ' if self.client_no_context_takeover else ''}context takeover, "
                f"window {self.client_bits}")


def _agreement_for(offer, resp):
    """The Agreement if resp is a valid answer to offer (both Params), else (None, why)."""
    if offer.server_no_context_takeover and not resp.server_no_context_takeover:
        return None, "server_no_context_takeover was offered but is missing from the answer"
    if offer.server_max_window_bits is not None:
        if resp.server_max_window_bits is None:
            return None, "server_max_window_bits was offered but is missing from the answer"
        if resp.server_max_window_bits > offer.server_max_window_bits:
            return None, "server_max_window_bits in the answer is larger than offered"
    if resp.client_max_window_bits is not None:
        if offer.client_max_window_bits is None:
            return None, "client_max_window_bits in the answer, but the offer did not have it"
        if offer.client_max_window_bits is not True and \
                resp.client_max_window_bits > offer.client_max_window_bits:
            return None, "client_max_window_bits in the answer is larger than offered"
    client_bits = 15
    for b in (offer.client_max_window_bits, resp.client_max_window_bits):
        if isinstance(b, int) and b is not True:
            client_bits = min(client_bits, b)
    # RFC 7692 7.1.1.2: offering client_no_context_takeover binds the client even when
    # the answer does not repeat it.
    return Agreement(resp.server_no_context_takeover,
                     resp.client_no_context_takeover or offer.client_no_context_takeover,
                     resp.server_max_window_bits or 15, client_bits,
                     format_extensions([(NAME, resp.to_list())])), None


def check_response(offers, header):
    """Client side: judges the server's Sec-WebSocket-Extensions against our offers.

    Returns (Agreement or None when declined, error or None, index of the offer answered).
    The answer must be valid for one of the offers the server was allowed to accept
    (an offer with an invalid parameter must be declined: RFC 7692 5).
    """
    try:
        exts = parse_extensions(header)
    except ValueError as e:
        return None, f"unparsable Sec-WebSocket-Extensions {header!r}: {e}", None
    if not exts:
        return None, None, None
    if len(exts) != 1 or exts[0][0] != NAME:
        return None, f"answer {header!r}: not exactly one {NAME}", None
    resp, why = parse_params(exts[0][1], response=True)
    if resp is None:
        return None, f"invalid answer {header!r}: {why}", None
    reasons = []
    for i, (name, params) in enumerate(offers):
        if name != NAME:
            continue
        offer, invalid = parse_params(params, response=False)
        if offer is None:
            reasons.append(f"offer {i + 1} must be declined ({invalid})")
            continue
        agreement, why = _agreement_for(offer, resp)
        if agreement:
            return agreement, None, i
        reasons.append(f"offer {i + 1}: {why}")
    return None, f"answer {header!r} fits none of the offers: " + "; ".join(reasons), None


def answer_offer(offer_params, server_no_context_takeover=False, client_no_context_takeover=False,
                 server_max_window_bits=None, client_max_window_bits=None):
    """Server side: our answer to a client's (valid) offer with the case's wishes.

    Returns (Agreement, None) or (None, why the wish cannot be expressed for this offer).
    """
    offer, invalid = parse_params(offer_params, response=False)
    if offer is None:
        return None, f"the client's offer is invalid: {invalid}"
    resp = Params()
    resp.server_no_context_takeover = server_no_context_takeover or offer.server_no_context_takeover
    resp.client_no_context_takeover = client_no_context_takeover
    bits = server_max_window_bits
    if offer.server_max_window_bits is not None:
        bits = min(bits or 15, offer.server_max_window_bits)
    resp.server_max_window_bits = bits
    if client_max_window_bits is not None:
        if offer.client_max_window_bits is None:
            return None, "the client did not offer client_max_window_bits"
        cap = 15 if offer.client_max_window_bits is True else offer.client_max_window_bits
        resp.client_max_window_bits = min(cap, client_max_window_bits)
    agreement, why = _agreement_for(offer, resp)
    return agreement, why
