"""One results.txt line for bench/generators.sh from a load generator's output on stdin.

    generator_result.py wsload|aerie-bench ROW ROUND

wsload prints key=value words (its CPU shares in % of one core); aerie-bench --json one
object. Both become msgs/s and the client's and the server's CPU µs per message."""
import json
import math
import re
import sys

gen, row, rnd = sys.argv[1:]
text = sys.stdin.read()
if gen == "wsload":
    d = dict(re.findall(r"(\w+)=([\d.]+)", text))
    msgs = float(d.get("msgs_per_s", 0)) or math.nan
    client = float(d.get("client_cpu_pct", "nan")) * 1e4 / msgs
    server = float(d.get("server_cpu_pct", "nan")) * 1e4 / msgs
    errors = d.get("errors", "?")
else:
    d = json.loads(text)
    msgs = d["msgs_per_s"]
    client = d["client_cpu_us_per_msg"]
    server = d["server"]["cpu_us_per_msg"]
    errors = d["errors"]
print(f"row={row} round={rnd} gen={gen} msgs_per_s={msgs:.0f} client_us={client:.3f} "
      f"server_us={server:.3f} errors={errors}")
