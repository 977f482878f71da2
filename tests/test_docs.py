"""
The documentation site builds: Sphinx with warnings as errors, the Markdown
pages and the pydoctor API reference, as C{tox -e docs} builds it.
"""

import pathlib
import subprocess
import sys

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def test_sphinxBuildHasNoWarnings(tmp_path):
    """
    C{sphinx-build -W --keep-going -b html docs OUT} succeeds, in a fresh
    interpreter, and the output holds the pages and the API reference.  A
    missing Sphinx, MyST or pydoctor fails this test: they are in the
    C{test} extra.
    """
    out = tmp_path / "html"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    for page in ["index.html", "tutorial.html", "api.html", "howto/plugins.html", "protocols/websocket.html"]:
        assert (out / page).is_file(), page
    # pydoctor's reference, moved into place when the build finished.
    assert (out / "api" / "index.html").is_file()
    assert (out / "api" / "rtproto.websocket.WebSocketHandler.html").is_file()
    assert not (out / "api.sphinx_files").exists()
    # The pages' links to API objects resolved through the local inventory.
    tutorial = (out / "tutorial.html").read_text(encoding="utf-8")
    assert 'href="api/rtproto.websocket.WebSocketHandler.html' in tutorial
