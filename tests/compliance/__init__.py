"""
The Autobahn testsuite (wstest) compliance harness; see L{harness}.

A package so that pytest imports these modules under unique names.
"""
