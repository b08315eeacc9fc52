"""The visitor's privacy signals, read the same way by every package that sets a cookie
or records a visitor."""

from flask import request


def tracking_refused() -> bool:
    """Do Not Track (`DNT: 1`) or Global Privacy Control (`Sec-GPC: 1`): the visitor gets
    no tracking cookie (visitor id, visit, campaign landing, known visitor) and is
    counted without an id (docs/INSIGHTS.md, "What is not counted")."""
    headers = request.headers
    return headers.get("DNT") == "1" or headers.get("Sec-GPC") == "1"
