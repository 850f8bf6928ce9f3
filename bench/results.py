"""What the bench scripts share: each round of a script appends one line of "key=value"
fields to its results.txt; the summary reads them back, groups them and takes medians.

    PYTHONPATH=bench python3 - results.txt <<'PY'
    from results import read, median
    runs = read(sys.argv[1], "row", "server")      # {(row, server): [fields, ...]}
    median(runs[("hello", "aerie")], "rps")
    PY
"""
import collections
import math
import statistics


def read(path, *keys, require=None):
    """The lines of `path` as dicts of their key=value fields, grouped by the values of
    `keys` (a tuple of them). Words without '=' are ignored; a line without the field
    `require` (a run that failed before printing its figures) is skipped."""
    runs = collections.defaultdict(list)
    with open(path) as lines:
        for line in lines:
            fields = dict(word.split("=", 1) for word in line.split() if "=" in word)
            if not fields or (require and require not in fields):
                continue
            runs[tuple(fields[key] for key in keys)].append(fields)
    return runs


def median(rows, name, convert=float):
    """Median of field `name` over `rows` (NaN when there are none)."""
    values = [convert(row[name]) for row in rows]
    return statistics.median(values) if values else math.nan


def ms(text):
    """A wrk duration ("1.23ms", "456.00us", "1.02s") in milliseconds."""
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
    raise ValueError(f"not a wrk duration: {text!r}")
