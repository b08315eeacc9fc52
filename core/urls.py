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


CAMPAIGN_PARAMETERS = "lodestar.campaign_parameters"


def add_campaign_parameters(app, names) -> None:
    """Query parameters that only say where a visitor came from (utm_*, ad click ids),
    registered by the package that reads them."""
    app.extensions.setdefault(CAMPAIGN_PARAMETERS, set()).update(names)


def page_path_for_links() -> str:
    """This page's path and query without the campaign parameters, for a link a public page
    makes to itself (the language switch): visitors from two campaigns get the same bytes,
    and the campaign is read from the URL they landed on, not from the page."""
    from urllib.parse import urlencode

    from flask import request

    if not request.query_string:
        return request.path
    drop = current_app.extensions.get(CAMPAIGN_PARAMETERS, set())
    kept = [(name, value) for name, value in request.args.items(multi=True) if name not in drop]
    return f"{request.path}?{urlencode(kept)}" if kept else request.path
