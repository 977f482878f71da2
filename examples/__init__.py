"""
Example rtproto applications; see C{examples/README.md}.  Not installed
with rtproto: run them from the repository's root.
"""
