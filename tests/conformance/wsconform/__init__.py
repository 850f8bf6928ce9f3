"""Raw-socket WebSocket conformance suite (Autobahn-style cases and verdicts).

Standard library only, run by /usr/bin/python3. Layout:
  frames.py        frame codec, masking, handshakes, a strict raw-socket peer
  deflate.py       an independent permessage-deflate codec and negotiation (RFC 7692)
  cases_deflate.py Autobahn categories 12 and 13 (compression), both roles
  report.py        verdicts and the Markdown report
  runner.py        drives the cases: the suite as client (testee = server) or as server
"""
