"""
Build glue for the one optional C helper (WebSocket masking); everything
else is declared in setup.cfg.  Without a C compiler the build goes on
and rtproto uses its pure-Python fallback.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rtproto.websocket._speedups",
            ["rtproto/websocket/_speedups.c"],
            optional=True,
        )
    ]
)
