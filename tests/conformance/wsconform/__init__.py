"""Raw-socket WebSocket conformance suite (Autobahn-style cases and verdicts).

Standard library only, run by /usr/bin/python3. Layout:
  frames.py        frame codec, masking, handshakes, a strict raw-socket peer
  deflate.py       an independent permessage-deflate codec and negotiation (RFC 7692)
  core.py          the plain Case, raw frame building and the event checks of 1-10 and hs
  cases_framing.py Autobahn categories 1-4 (framing, pings, reserved bits and opcodes)
  cases_fragmentation.py  category 5 (fragmentation)
  cases_utf8.py    category 6 (UTF-8, Kuhn's test vectors, fail fast)
  cases_close.py   category 7 (the closing handshake, close codes)
  cases_limits.py  categories 9 (message sizes up to 16 MiB, timings) and 10
  cases_handshake.py  category hs (the opening handshake, testee = server)
  cases_deflate.py Autobahn categories 12 and 13 (compression), both roles
  report.py        verdicts and the Markdown report
  runner.py        drives the cases: the suite as client (testee = server) or as server
"""
