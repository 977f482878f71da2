"""
Sphinx configuration of the rtproto documentation.

The pages are Markdown (MyST).  The API reference is generated from the
package's epytext docstrings by pydoctor, through its Sphinx extension, into
C{api/} of the HTML output; its inventory is registered with intersphinx, so
pages can link to API objects with C{{py:class}} and friends.

Build: C{sphinx-build -W --keep-going -b html docs docs/_build/html}
(C{tox -e docs} runs exactly that).
"""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _version() -> str:
    """
    The package version, read from the source (the docs may be built without
    rtproto installed).
    """
    text = (ROOT / "rtproto" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


project = "rtproto"
author = "the rtproto authors"
copyright = "the rtproto authors"
version = release = _version()

extensions = [
    "myst_parser",
    "sphinx.ext.intersphinx",
    "pydoctor.sphinx_ext.build_apidocs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Headings get anchors, so that [text](page.md#a-heading) links resolve.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]

html_theme = "alabaster"
html_title = f"rtproto {version}"
html_theme_options = {"description": "real-time web on Twisted"}

# Every cross-reference must resolve: a link to an API object that does not
# exist is a warning, hence an error.
nitpicky = True

# No remote inventories: the build must work offline.  The pydoctor
# extension adds the local API inventory here.
intersphinx_mapping: dict = {}

# The API reference.  The extension adds --make-html and one --quiet; the
# second --quiet silences pydoctor's own warnings about docstrings (mostly
# links to the standard library and to Twisted, which cannot be resolved
# without network inventories), because the extension turns every line
# pydoctor prints into a Sphinx warning, and -W would fail the build on them.
# To see them: tox -e docs prints them after the build, or run
#   pydoctor --docformat=epytext -q --html-output=/tmp/api rtproto
pydoctor_args = [
    "--project-name=rtproto",
    f"--project-version={version}",
    "--project-url=../index.html",
    "--docformat=epytext",
    f"--project-base-dir={ROOT}",
    "--html-output={outdir}/api",
    "--quiet",
    str(ROOT / "rtproto"),
]
pydoctor_url_path = "api/"


def _makeApiFolder(app, exception) -> None:
    """
    The pydoctor extension expects the Sphinx build to have made an C{api}
    folder, which it sets aside before moving the API reference there; our
    API entry page is C{api.html}, so make an empty one.
    """
    if app.builder is not None and app.builder.name == "html":
        (pathlib.Path(app.outdir) / "api").mkdir(exist_ok=True)


def _dropApiLeftover(app, exception) -> None:
    """
    Remove the empty folder the pydoctor extension set aside.
    """
    if app.builder is not None and app.builder.name == "html":
        leftover = pathlib.Path(app.outdir) / "api.sphinx_files"
        if leftover.is_dir() and not any(leftover.iterdir()):
            leftover.rmdir()


def setup(app):
    """
    Run our two build-finished steps around the pydoctor extension's (whose
    priority is the default, 500).
    """
    app.connect("build-finished", _makeApiFolder, priority=400)
    app.connect("build-finished", _dropApiLeftover, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
