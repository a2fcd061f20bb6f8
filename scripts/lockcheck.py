"""The lock's fingerprint of pyproject.toml's dependencies, and the check that they still agree.

    python scripts/lockcheck.py fingerprint     # prints it (scripts/lock.sh writes it into the lock files)
    python scripts/lockcheck.py check FILE...   # exit 1, naming the file, when a lock was made from other deps
    python scripts/lockcheck.py production-in   # the production input: psycopg2 (source) for psycopg2-binary

Only the dependency lists count (not the version, the README or the tool settings), so a lock made before an
unrelated edit of pyproject.toml stays valid. Standard library only: it runs before anything is installed.
"""

import hashlib
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARK = "# pyproject-dependencies-sha256: "


def dependencies() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {"dependencies": project.get("dependencies", []),
            "optional-dependencies": project.get("optional-dependencies", {})}


def fingerprint() -> str:
    return hashlib.sha256(json.dumps(dependencies(), sort_keys=True).encode()).hexdigest()


def check(paths: list[str]) -> int:
    want = fingerprint()
    bad = []
    for path in paths:
        text = Path(path).read_text() if Path(path).exists() else ""
        found = next((line[len(MARK):].strip() for line in text.splitlines() if line.startswith(MARK)), None)
        if found != want:
            bad.append(path)
    if bad:
        print(f"ERROR: {', '.join(bad)} was not made from pyproject.toml's current dependencies. "
              "Refresh the lock with ./scripts/lock.sh and commit it.", file=sys.stderr)
        return 1
    return 0


def production_in() -> str:
    lines = []
    for requirement in dependencies()["dependencies"]:
        if re.match(r"^psycopg2-binary\b", requirement, re.IGNORECASE):
            requirement = "psycopg2" + requirement[len("psycopg2-binary"):]
        lines.append(requirement)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "fingerprint":
        print(fingerprint())
    elif command == "check":
        sys.exit(check(sys.argv[2:]))
    elif command == "production-in":
        sys.stdout.write(production_in())
    else:
        sys.exit(__doc__)
