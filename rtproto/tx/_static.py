"""
The site's root and its file mounts: the demo page of the default app
(L{DemoRoot}, the files of the C{rtproto.demo} package), the plain-text
index of mounts when there is no demo (L{Index}), and C{--static PATH=DIR}
folders (L{staticFolder}).
"""

import os

from twisted.web.pages import notFound
from twisted.web.resource import Resource
from twisted.web.static import File

import rtproto
from rtproto.errors import UsageError

#: Where the demo page's files are installed (package data of rtproto).
DEMO_FOLDER = os.path.join(os.path.dirname(os.path.abspath(rtproto.__file__)), "demo")

#: The files of the demo page; nothing else in the package is served.
DEMO_FILES = ("index.html", "demo.js", "demo.css", "rtsio.js")


class Index(Resource):
    """
    A root that lists what is mounted, as plain text.
    """

    def __init__(self, mounts: "list[tuple[str, str]]") -> None:
        super().__init__()
        self._mounts = mounts

    def getChild(self, path, request):
        """
        Anything below the root that is not mounted is not found.
        """
        return notFound() if path else self

    def render_GET(self, request):
        """
        The list of mounts.
        """
        request.setHeader("content-type", "text/plain; charset=utf-8")
        lines = ["rtproto", ""] + [f"{kind}: {path}" for kind, path in self._mounts]
        return ("\n".join(lines) + "\n").encode("utf-8")


class DemoRoot(Resource):
    """
    A root serving the demo page: C{/} is its C{index.html}, and only the
    files of L{DEMO_FILES} are served beside it (with Twisted's
    L{File}: conditional requests and ranges).
    """

    def __init__(self, folder: "str | None" = None) -> None:
        super().__init__()
        self.folder = folder or DEMO_FOLDER

    def getChild(self, path, request):
        """
        A demo file, C{/} itself, or 404.
        """
        if not path:
            return self
        name = path.decode("utf-8", "replace")
        if name in DEMO_FILES and not request.postpath:
            return File(os.path.join(self.folder, name))
        return notFound()

    def render(self, request):
        """
        C{/}: the page.
        """
        return File(os.path.join(self.folder, "index.html")).render(request)


class _Folder(File):
    """
    A folder served without directory listings (C{index.html} still is).
    """

    def directoryListing(self):
        """
        No listing: 404.
        """
        return notFound()


def staticFolder(folder: str) -> File:
    """
    A L{File} serving C{folder} (C{index.html} for its directories,
    directory listings off).

    @raise UsageError: C{folder} is not a readable directory.
    """
    if not os.path.isdir(folder) or not os.access(folder, os.R_OK | os.X_OK):
        raise UsageError(f"--static: {folder!r} is not a readable directory")
    return _Folder(os.path.abspath(folder))
