"""The ceiling for page benchmarks: a bare Flask route returning a page of a given size,
`/<bytes>` (or BARE_PAGE_BYTES at `/`), served by the same gunicorn settings as Lodestar.
Pages are built once per size, as a cached page is."""

import os

from flask import Flask

app = Flask(__name__)
PAGES: dict[int, bytes] = {}


def page_of(size: int) -> bytes:
    if size not in PAGES:
        PAGES[size] = ("<!doctype html><html><body>" + "x" * max(0, size - 40) + "</body></html>").encode()
    return PAGES[size]


@app.get("/")
def page():
    return page_of(int(os.environ.get("BARE_PAGE_BYTES", "20000")))


@app.get("/<int:size>")
def sized(size: int):
    return page_of(min(size, 1_000_000))
