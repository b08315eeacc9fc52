"""Purging the HTTP cache in front (nginx's micro-cache, a CDN) when content changes.

Public pages may be kept by a shared cache for HTTP_S_MAXAGE seconds (core.pagecache);
an edit should show at once, so every change that forgets this process's cached pages also
sends `PURGE` to each URL of FRONT_CACHE_PURGE_URLS: for deploy/nginx.conf with a purge
module (nginx Plus, or the ngx_cache_purge module) `http://127.0.0.1/purge/`, whose location
drops every cached page of the site; for a CDN, its purge endpoint. The whole site goes, not one page: an article also shows on the home page,
lists, feeds, the sitemap and search pages, in every language and under any query string
(utm_* tags make each landing URL a key of its own), and edits are rare beside views.

A purge that fails is logged, never raised: the edit is saved, and the front's copy ends
within HTTP_S_MAXAGE seconds anyway.
"""

import urllib.request

from core import pagefiles


def purge(app) -> int:
    """Delete the page files (core.pagefiles) and send PURGE to every configured URL;
    returns how many URLs answered with success."""
    pagefiles.forget(app)
    done = 0
    for url in app.config["FRONT_CACHE_PURGE_URLS"]:
        request = urllib.request.Request(url, method="PURGE")
        try:
            with urllib.request.urlopen(request, timeout=app.config["FRONT_CACHE_PURGE_TIMEOUT"]) as answer:
                answer.read()
            done += 1
        except OSError as error:  # URLError and HTTPError (e.g. a 404: nothing was cached) too
            if getattr(error, "code", None) == 404:
                done += 1
                continue
            app.logger.warning("Purging the front cache at %s failed: %s", url, error)
    return done
