"""The site's own absolute URLs and hosts, from SITE_URL alone.

A request's Host header is whatever the client typed: a canonical link, a feed entry or
a link in a mail built from it would name any host an attacker sends (and a cached page
would keep it for every visitor). So every absolute URL is built here, on SITE_URL, in
or out of a request, and outside development only SITE_URL's host (and the hosts added
by TRUSTED_HOSTS) may reach a view at all.
"""

from urllib.parse import urlsplit

from flask import current_app
from werkzeug.routing import MapAdapter


def site_adapter(app=None) -> MapAdapter:
    """The app's URL map bound to SITE_URL: its host, scheme and path prefix."""
    app = app or current_app
    base = urlsplit(app.config["SITE_URL"])
    return app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "http")


def absolute_url(path: str = "") -> str:
    """SITE_URL joined with a path of ours ("/help/x"): links in pages, feeds and mails."""
    return current_app.config["SITE_URL"].rstrip("/") + path


def absolute_url_for(endpoint: str, *, external: bool = True, **values) -> str:
    """url_for on SITE_URL, in or out of a request; `external=False` gives the path."""
    return site_adapter().build(endpoint, values, force_external=external)


def trusted_hosts(config) -> list[str] | None:
    """Flask's TRUSTED_HOSTS: SITE_URL's host and those the setting adds (a list, or
    one comma-separated string from the environment); None (any host) in development
    and tests unless the setting names hosts."""
    extra = config.get("TRUSTED_HOSTS")
    if isinstance(extra, str):
        extra = [host.strip() for host in extra.split(",")]
    extra = [host for host in extra or () if host]
    relaxed = config.get("TESTING") or config.get("DEBUG") or config.get("DEVELOPMENT")
    if relaxed and not extra:
        return None
    site_host = urlsplit(config["SITE_URL"]).hostname
    return list(dict.fromkeys([*([site_host] if site_host else []), *extra]))
