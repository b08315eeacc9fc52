"""Public pages written as files, for the nginx front to serve as static files.

On a web node whose disk the front shares (deploy/nginx.conf on the same machine),
PAGE_FILES_DIR names a folder; nginx looks there first (`try_files`) and asks the app only
when the file is missing. A micro-cache hit still costs nginx the work of a proxy cache
(the shared-zone lookup, the stored headers' re-parse); a file costs what a static file
does.

A page goes to a file only when it is everyone's (core.pagecache marked it so, 200, no
cookie, public) and nginx would send it with the same headers (file_headers: the type,
Cache-Control, Vary and the security headers; an embeddable form or a noindex page has
others and stays with the micro-cache). Its path is what nginx's maps name:

    <PAGE_FILES_DIR>/<window>/<host><path>@<lang cookie>@<Accept-Language>.html (and .gz)

with "-" for a missing cookie or header, and only for a request the front's maps take
(GET, no query string, a plain host, a path without empty or dot segments, a short
Accept-Language of letters, digits, ", ; = . * -" and spaces, a lang cookie of letters,
"-" and "_"). The window is the Unix time's first nine digits: ten seconds. nginx reads
it from its own clock, so a file is served for ten seconds at most (as the micro-cache's
s-maxage), and the first request of the next window asks the app, which answers from its
page cache and writes the next file. An edit made in this process deletes every window at
once (core.frontcache); one made on another node shows within a window.
"""

import os
import re
import shutil
import threading
import time
import uuid
from logging import getLogger

from core.security import security_headers

log = getLogger(__name__)
KEY = "lodestar.pagefiles"
# On a response whose page is (or is being) a file: the front keeps it in no other cache,
# so that deleting the file is enough for an edit to show (deploy/nginx.conf, proxy_no_cache).
MARK = ("X-Lodestar-Page-File", "1")
WINDOW_DIGITS = 9  # nginx: map $msec "~^(?<window>\d{9})"
ABSENT = "-"
# What nginx's maps accept (deploy/nginx.conf); anything else is not looked up there.
LANGUAGES = re.compile(r"[A-Za-z0-9,;=.*\- ]{1,80}")
LANG_COOKIE = re.compile(r"[A-Za-z_-]{1,16}")
HOST = re.compile(r"[a-z0-9.-]{1,100}")
LANG_IN_COOKIES = re.compile(r"(?:^|[;,]\s*)lang=([^;,]*)")
OWN_COOKIES = re.compile(r"(?:^|[;,]\s*)(?:session|remember_token)=")
FILE_SUFFIX = ".html"
PAGE_TYPE = "text/html; charset=utf-8"


def init_app(app) -> None:
    """Page files on when PAGE_FILES_DIR is set (core.pagecache's settings)."""
    if app.config["PAGE_FILES_DIR"]:
        app.extensions[KEY] = PageFiles(
            app.config["PAGE_FILES_DIR"],
            max_files=int(app.config["PAGE_FILES_MAX"]),
            headers=file_headers(app),
        )


def forget(app) -> None:
    files = app.extensions.get(KEY)
    if files is not None:
        files.forget()


def window(moment: float | None = None) -> str:
    return str(int(time.time() if moment is None else moment))[:WINDOW_DIGITS]


def file_headers(app) -> dict[str, str]:
    """The headers nginx sends with a page file (deploy/nginx.conf's `location /` adds
    them): a page the app would send otherwise is not written."""
    from core.pagecache import public_cache_control

    with app.app_context():
        control = public_cache_control()
    return {
        "Content-Type": PAGE_TYPE,
        "Cache-Control": control,
        "Vary": "Accept-Encoding, Accept-Language, Cookie",
        **dict(security_headers(app)),
    }


# Not compared: how these bytes went out (nginx makes its own length, ETag and encoding),
# and Vary, which the app leaves without Accept-Encoding on a page under 1 KB while the
# config always names it (nginx may compress such a page itself).
TRANSPORT = {"content-length", "etag", "content-encoding", "vary"}


def relative_path(environ) -> bytes | None:
    """The file's path under the window, as nginx's maps build it, or None when the
    front would not look for one."""
    if environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING") or environ.get("SCRIPT_NAME"):
        return None
    host = environ.get("HTTP_HOST", "").lower().partition(":")[0]
    if not HOST.fullmatch(host):
        return None
    path = environ.get("PATH_INFO", "")
    segments = path.split("/")
    if (
        not path.startswith("/")
        or "\x00" in path
        or any(segment in ("", ".", "..") for segment in segments[1:-1])
        or segments[-1] in (".", "..")
    ):
        return None
    cookies = environ.get("HTTP_COOKIE", "")
    if OWN_COOKIES.search(cookies):
        return None
    langs = LANG_IN_COOKIES.findall(cookies)
    if len(langs) > 1:
        return None
    lang = langs[0] if langs and langs[0] else ABSENT
    languages = environ.get("HTTP_ACCEPT_LANGUAGE", "") or ABSENT
    if not LANG_COOKIE.fullmatch(lang) or not LANGUAGES.fullmatch(languages):
        return None
    try:
        name = f"{host}{path}@{lang}@{languages}{FILE_SUFFIX}".encode("latin-1")
    except UnicodeEncodeError:  # WSGI gives bytes as latin-1: not from a real request
        return None
    if any(len(part) > 200 for part in name.split(b"/")):
        return None
    return name


class PageFiles:
    """The folder of one web node's page files (PAGE_FILES_DIR)."""

    def __init__(self, root: str, *, max_files: int, headers: dict[str, str]):
        self.root = os.fsencode(root)
        self.max_files = max_files
        self.headers = headers
        self.lock = threading.Lock()
        self.window = None
        # What this process wrote in this window (each once): the paths, and the requests
        # already looked at (a repeat hit then costs a set lookup).
        self.written: set[tuple] = set()
        self.seen: set = set()

    def takes(self, environ, headers) -> bytes | None:
        """The file's path for this request's page, or None when the front would not look
        for one or would send it with other headers than the app's."""
        name = relative_path(environ)
        return name if name is not None and same_headers(headers, self.headers) else None

    def write(self, epoch: int, request_key, name: bytes, page) -> None:
        """Write the page (a core.pagecache.KeptPage, and its gzip copy) as `name` in the
        current window, unless this process did in this window: once per request key
        (a repeat hit then costs a set lookup), once per file. Keys and names carry the
        page cache's epoch, so a page this process renders anew (another node's edit
        seen) is written again."""
        now = window().encode()
        with self.lock:
            if now != self.window:
                self.window, self.written, self.seen = now, set(), set()
                self._remove_windows(keep={now, window(time.time() - 10).encode()})
            if (epoch, request_key) in self.seen:
                return
            self.seen.add((epoch, request_key))
            if (epoch, name) in self.written or len(self.written) >= self.max_files:
                return
            self.written.add((epoch, name))
        target = os.path.join(self.root, now, name)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if page.gzipped is not None:
                _replace(target + b".gz", page.gzipped)
            _replace(target, page.body)
        except OSError as error:  # a full disk, a path too long: the app answers the next
            log.warning("page file %r not written: %s", target, error)

    def forget(self) -> None:
        """Delete every window (content changed in this process)."""
        with self.lock:
            self.written, self.seen = set(), set()
            self._remove_windows(keep=set())

    def _remove_windows(self, keep: set[bytes]) -> None:
        try:
            names = os.listdir(self.root)
        except OSError:  # none yet, or not a folder: nothing to remove (write logs it)
            return
        for name in names:
            if name.isdigit() and name not in keep:
                # Renamed first, so nginx never reads a half-deleted window.
                doomed = os.path.join(self.root, b".gone-" + uuid.uuid4().hex.encode())
                try:
                    os.rename(os.path.join(self.root, name), doomed)
                except OSError:
                    continue  # another process took it
                shutil.rmtree(doomed, ignore_errors=True)


def _replace(path: bytes, data: bytes) -> None:
    """Write whole or not at all: nginx may open the file at any moment."""
    temporary = path + b".tmp-" + uuid.uuid4().hex.encode()
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def same_headers(headers, expected: dict[str, str]) -> bool:
    """Whether a response's headers are those nginx gives a file, apart from how the
    bytes went out."""
    sent = {name.lower(): value for name, value in headers if name.lower() not in TRANSPORT}
    return sent == {name.lower(): value for name, value in expected.items() if name.lower() not in TRANSPORT}
