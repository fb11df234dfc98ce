"""Instructions per imported event, counted by valgrind's callgrind: a figure a busy
machine does not move (timed runs swing ±40 % at a load of 8 on 2 cores).

    python benchmarks/import_instructions.py                      # this copy
    PYTHONPATH=/path/to/other/copy python benchmarks/import_instructions.py   # "before"

For each size (4,000 and 20,000 events by default) it runs the workload twice under
`valgrind --tool=callgrind`: once only the setup (dataset, NDJSON lines, a fresh store on
`/dev/shm`), once the setup and the import; the difference is the import. The marginal
cost between the two sizes, per event, leaves out what an import pays once (schemas
built, statements compiled). `--case import` is the operation over lines (`incident
import`), `--case api` is `Application.import_events` in batches of 2,000. About 2 minutes
per size on an idle core.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parent.parent))

TIME = "2026-12-01T12:00:00.000000+00:00"


def workload(n: int, run: bool, case: str) -> None:
    """The setup of an import of `n` bank events, and the import itself if `run`."""
    from benchmarks._baseline import bulk_dataset
    from benchmarks.bench_core import bank_envelopes, fresh_app, import_api, import_file

    envelopes = bank_envelopes(bulk_dataset(n), TIME)
    lines = [json.dumps(e) for e in envelopes]
    base = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    app, _ = fresh_app(base, "instructions_", "FULL")
    if run:
        if case == "import":
            import_file(app, lines)
        else:
            import_api(app, envelopes, 2000)
        assert app.store.event_count() == n
    app.close()
    shutil.rmtree(base)


def counted(n: int, run: bool, case: str) -> int:
    """Instructions of one `workload` process under callgrind."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", str(n), "--run" if run else "--setup", "--case", case],
        capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    assert found is not None, out.stderr[-2000:]
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="4000,20000")
    ap.add_argument("--case", choices=("import", "api"), default="import")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child is not None:
        workload(args.child, args.run, args.case)
        return 0
    import incident_core
    small, large = (int(x) for x in args.sizes.split(","))
    imports = {n: counted(n, True, args.case) - counted(n, False, args.case)
               for n in (small, large)}
    print(f"{args.case}, incident_core {Path(incident_core.__file__).parent}")
    for n, value in imports.items():
        print(f"  {n:>7} events: {value / 1e6:,.1f} M instructions ({value / n:,.0f} per event)")
    print(f"  marginal: {(imports[large] - imports[small]) / (large - small):,.0f} "
          "instructions per event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
