"""Reads one sitting of bench/compare_helpdesk.sh's output and writes the side-by-side table (issue 15).

    .venv/bin/python bench/compare_summary.py bench/results/compare-100000.txt [--readme bench/README.md]

The results file is appended to by every sitting; the last sitting (from its last "=== sitting" line) is summarised.
With --readme, the table replaces what stands between `<!-- compare N=<n> start -->` and `<!-- compare N=<n> end -->`
in that file (the markers are added at the end of the file the first time).

What is compared, p50 of one client's sequential requests against gunicorn with 2 workers on the same PostgreSQL:
- caseapp's queue page (one request: the rows and the filter counts) against django-helpdesk's list page plus the
  data request its page sends on first load (the DataTables XHR, "UI default order"): what each shows an agent;
- caseapp's case page (a full case) against django-helpdesk's ticket page.
"""

import argparse
import re
import sys
from pathlib import Path

ROUND = re.compile(r"^== round (\d+), N=(\d+), (\S+), load average: ([\d.]+) ([\d.]+) ([\d.]+)")
CASEAPP_START = re.compile(r"^-- caseapp \(load average: ([\d.]+) ([\d.]+) ([\d.]+)\)")
NUMBER = r"\s+([\d.]+)"
PEER_ROW = re.compile(r"^(list page \(HTML\)|list data, UI default order|list data, newest first|ticket detail).*?"
                      + NUMBER * 5)
CASEAPP_ROW = re.compile(r"^(queue \(default[^)]*\)|case page[^\d]*?)" + NUMBER * 4)


def parse(text: str) -> list[dict]:
    sitting = text.rsplit("=== sitting", 1)[-1]
    rounds, current, side = [], None, None
    for line in sitting.splitlines():
        if match := ROUND.match(line):
            current = {"round": int(match[1]), "n": int(match[2]), "at": match[3], "load_peer": float(match[4]),
                       "peer": {}, "caseapp": {}}
            rounds.append(current)
            side = None
        elif current is None:
            continue
        elif line.startswith("-- django-helpdesk"):
            side = "peer"
        elif match := CASEAPP_START.match(line):
            side = "caseapp"
            current["load_caseapp"] = float(match[1])
        elif side == "peer" and (match := PEER_ROW.match(line)):
            current["peer"][match[1]] = {"p50": float(match[2]), "queries": int(float(match[6]))}
        elif side == "caseapp" and (match := CASEAPP_ROW.match(line)):
            name = "queue" if match[1].startswith("queue") else "case"
            current["caseapp"].setdefault(name, {"p50": float(match[2]), "queries": int(float(match[5]))})
    return [r for r in rounds if r["peer"] and r["caseapp"]]


def table(rounds: list[dict]) -> str:
    lines = [
        "| round | load average (peer / caseapp) | page | caseapp p50 ms (queries) | django-helpdesk p50 ms (queries) "
        "| ratio (peer / caseapp) |",
        "|---|---|---|---|---|---|",
    ]
    for r in rounds:
        load = f"{r['load_peer']:.2f} / {r.get('load_caseapp', float('nan')):.2f}"
        peer, ours = r["peer"], r["caseapp"]
        if "queue" in ours and "list page (HTML)" in peer and "list data, UI default order" in peer:
            page, data = peer["list page (HTML)"], peer["list data, UI default order"]
            theirs = page["p50"] + data["p50"]
            lines.append(
                f"| {r['round']} | {load} | queue page vs list page + list data | {ours['queue']['p50']:.1f} "
                f"({ours['queue']['queries']}) | {page['p50']:.1f} + {data['p50']:.1f} = {theirs:.1f} "
                f"({page['queries']} + {data['queries']}) | **{theirs / ours['queue']['p50']:.1f}×** |")
        if "case" in ours and "ticket detail" in peer:
            theirs = peer["ticket detail"]
            lines.append(
                f"| {r['round']} | {load} | case page vs ticket page | {ours['case']['p50']:.1f} "
                f"({ours['case']['queries']}) | {theirs['p50']:.1f} ({theirs['queries']}) "
                f"| **{theirs['p50'] / ours['case']['p50']:.1f}×** |")
    first = rounds[0]
    return f"N = {first['n']:,}, sitting of {first['at']} ({len(rounds)} rounds, interleaved):\n\n" + "\n".join(lines)


def write_readme(readme: Path, n: int, body: str) -> None:
    start, end = f"<!-- compare N={n} start -->", f"<!-- compare N={n} end -->"
    text = readme.read_text(encoding="utf-8")
    block = f"{start}\n{body}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        text = before + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args()
    rounds = parse(args.results.read_text(encoding="utf-8"))
    if not rounds:
        print(f"{args.results}: no complete round in the last sitting", file=sys.stderr)
        return 1
    body = table(rounds)
    print(body)
    if args.readme:
        write_readme(args.readme, rounds[0]["n"], body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
