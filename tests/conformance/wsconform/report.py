"""Verdicts (Autobahn's words) and the Markdown report."""

import time

OK = "OK"
INFORMATIONAL = "INFORMATIONAL"  # nothing wrong, but worth knowing (e.g. sent uncompressed)
NON_STRICT = "NON-STRICT"        # allowed by the RFCs, but not what a strict peer does
FAILED = "FAILED"                # an echo differs, a rule is broken, the connection failed
_RANK = {OK: 0, INFORMATIONAL: 1, NON_STRICT: 2, FAILED: 3}
ORDER = (OK, NON_STRICT, INFORMATIONAL, FAILED)


class CaseResult:
    def __init__(self, case):
        self.case = case
        self.verdict = OK
        self.notes = []     # one line each; the first of the worst verdict is the summary
        self.info = []      # facts shown in the report whatever the verdict
        self.duration = 0.0
        self.testee_log = ""

    def mark(self, verdict, note):
        """Raises the verdict to at least `verdict` and records why."""
        if _RANK[verdict] > _RANK[self.verdict]:
            self.verdict = verdict
        self.notes.append((verdict, note))

    def summary(self):
        worst = [n for v, n in self.notes if v == self.verdict]
        return worst[0] if worst else ""

    def line(self):
        s = self.summary()
        return f"{self.case.id:<10} {self.verdict:<13} {self.duration:6.2f}s  {self.case.title}" + \
            (f"  -- {s}" if s else "")


def _md(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_markdown(path, title, testee, results, started, extra=None):
    counts = {v: sum(1 for r in results if r.verdict == v) for v in ORDER}
    out = [f"# {title}", "",
           f"- Testee: `{testee}`",
           f"- Run: {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(started))}, "
           f"{time.time() - started:.1f} s",
           "- Verdicts: " + ", ".join(f"{v} {counts[v]}" for v in ORDER)]
    for line in extra or []:
        out.append(f"- {line}")
    out += ["", "| Case | Verdict | Time | Description | Result |", "|---|---|---|---|---|"]
    for r in results:
        out.append(f"| {r.case.id} | {r.verdict} | {r.duration:.2f} s | {_md(r.case.title)} | "
                   f"{_md(r.summary() or '; '.join(r.info))} |")
    detailed = [r for r in results if r.verdict != OK]
    if detailed:
        out += ["", "## Details (every case that is not OK)", ""]
    for r in detailed:
        out += [f"### {r.case.id} {r.verdict}", "", _md(r.case.description), ""]
        out += [f"- {v}: {n}" for v, n in r.notes]
        out += [f"- {i}" for i in r.info]
        if r.testee_log:
            out += ["", "Testee output:", "", "```", r.testee_log.rstrip()[-4000:], "```"]
        out.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    return counts
