"""
Run C{python -m twisted ...} (the C{twist} runner) under cProfile.

Usage: C{python bench/profile_twist.py OUT.prof [twist arguments...]}.

C{twist} ends itself with the signal it was stopped by, so C{python -m
cProfile} never gets to write its file; this wrapper dumps the profile from
a reactor shutdown trigger instead.  C{bench/run.py --profile} uses it for
the rtproto server; read the result with C{python -m pstats OUT.prof}.
"""

import cProfile
import sys


def main():
    out = sys.argv[1]
    sys.argv = ["twist"] + sys.argv[2:]

    from twisted.application.twist._twist import Twist
    from twisted.internet import reactor

    profile = cProfile.Profile()

    def dump():
        profile.disable()
        profile.dump_stats(out)

    reactor.addSystemEventTrigger("after", "shutdown", dump)
    profile.enable()
    Twist.main()


if __name__ == "__main__":
    main()
