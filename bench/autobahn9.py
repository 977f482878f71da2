"""
Autobahn testsuite 9.x (limits/performance: large messages and many small
frames) against rtproto and against autobahn-python, in the same run:
the total time wstest reports for each, and their ratio.

From the repository root, after ./run-tests.sh has installed wstest::

    .venv/bin/python bench/autobahn9.py [--cases 9.*] [--rounds 1]

Both servers run the same way: a subprocess on 127.0.0.1 pinned to CPU 0
(when taskset exists), echoing, without compression; wstest's own case
durations (milliseconds) are summed.  Every case must also pass, or the
timing would not mean much.
"""

import argparse
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.compliance import harness  # noqa: E402

_PIN = ("taskset", "-c", "0") if shutil.which("taskset") else ()

SERVERS = {
    "rtproto": _PIN + harness.SERVER_COMMAND + ("--no-compression",),
    "autobahn": _PIN + ("{python}", str(REPO / "bench" / "servers" / "autobahn_server.py"), "--port", "{port}"),
}


def main(argv=None) -> int:
    """
    Run the cases against each server and print the totals.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", default=["9.*"])
    parser.add_argument("--rounds", type=int, default=1, help="repeat and keep each server's best total")
    args = parser.parse_args(argv)
    wstest = harness.ensureWstest()
    best: "dict[str, int]" = {}
    for round_ in range(args.rounds):
        for agent, command in SERVERS.items():
            verdict = harness.runServerMode(
                cases=args.cases,
                agent=agent,
                reportsDir=REPO / "reports" / "autobahn9" / agent,
                serverCommand=command,
                wstest=wstest,
            )
            if not verdict.ok:
                print(verdict.summary())
                return 1
            total = sum(r.duration for r in verdict.results)
            best[agent] = min(total, best.get(agent, total))
            print(f"round {round_ + 1}: {agent}: {len(verdict.results)} cases in {total / 1000:.2f} s")
    ratio = best["autobahn"] / best["rtproto"] if best["rtproto"] else float("inf")
    print(f"\nAutobahn {' '.join(args.cases)}: rtproto {best['rtproto'] / 1000:.2f} s, "
          f"autobahn-python {best['autobahn'] / 1000:.2f} s; autobahn/rtproto = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
