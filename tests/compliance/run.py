"""
Run the Autobahn testsuite against rtproto from the command line.

From the repository root::

    python -m tests.compliance.run [--server] [--client] [--cases 1.* 6.4.*]
    python tests/compliance/run.py --help

Exits 0 when every case meets the bar, 1 when some do not, 2 when the
suite could not be run at all.
"""

import sys

if __package__:
    from .harness import main
else:  # run as a script: make the repository importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.compliance.harness import main

if __name__ == "__main__":
    sys.exit(main())
