"""The ceiling for page benchmarks: a bare Flask route returning a page of a given size
(BARE_PAGE_BYTES), served by the same gunicorn settings as Lodestar."""

import os

from flask import Flask

app = Flask(__name__)
PAGE = (
    "<!doctype html><html><body>"
    + "x" * max(0, int(os.environ.get("BARE_PAGE_BYTES", "20000")) - 40)
    + "</body></html>"
)


@app.get("/")
def page():
    return PAGE
