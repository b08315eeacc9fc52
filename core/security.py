"""Security headers on every response, the proxy setting, CSRF by origin for anonymous
public forms and the refusal of unreadable input.

The Content-Security-Policy allows scripts and styles only from our own origin: no inline
script can run even if some HTML slipped through sanitising.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from werkzeug.middleware.proxy_fix import ProxyFix

from core.errors import CSRF_MESSAGE, render_error
from core.extensions import csrf


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_another_site(allowed: frozenset[str] = frozenset()) -> bool:
    """Whether the browser says a page of another site made this request: by its Fetch
    Metadata (`Sec-Fetch-Site`, sent by every current browser) or, without it, by its
    `Origin` (neither ours nor SITE_URL's: a sandboxed page's "null" too). A request
    with neither is no browser's cross-site form (browsers send Origin with every
    cross-site POST) and is taken at its word.

    `allowed`: the origins (lower case, as browsers send them) whose pages may send
    this form (an embedded form's host sites): a request from one of them is not from
    "another site", whatever Sec-Fetch-Site says."""
    origin = request.headers.get("Origin")
    if origin is not None and origin.lower() in allowed:
        return False
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    if origin is None:
        return False
    return origin.lower() not in {_origin(request.host_url), _origin(current_app.config["SITE_URL"])}


def csrf_by_origin(view=None, *, allowed_origins=None):
    """CSRF protection for an anonymous public form on a page that is the same bytes for
    every visitor: no token in the page and so no session cookie for it (the design's
    "CSRF for anonymous public forms by Origin/Sec-Fetch-Site", OWASP's defence for this
    case with SameSite cookies). A POST from another site's page is refused as a bad
    token is. A signed-in member of staff, whose session is worth more than a lead form,
    still sends Flask-WTF's token (`staff_csrf_field` puts it in the form for them).

    `allowed_origins(**view_args)`: the other sites' origins whose pages may send the
    form (an embedded form's hosts); a POST from any other site is refused as before."""

    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if request.method == "POST":
                allowed = allowed_origins(*args, **kwargs) if allowed_origins is not None else frozenset()
                if from_another_site(allowed):
                    return render_error(400, str(CSRF_MESSAGE))
                if current_user.is_authenticated and current_app.config["WTF_CSRF_ENABLED"]:
                    csrf.protect()
            return view(*args, **kwargs)

        return csrf.exempt(checked)

    return decorator(view) if view is not None else decorator


def rotate_session() -> None:
    """Start a new session at sign-in: nothing an earlier cookie held carries over, above
    all not the CSRF secret, so a session or CSRF token planted or read before the
    sign-in is worth nothing after it."""
    session.clear()
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)


def staff_csrf_field() -> Markup:
    """The CSRF token's hidden input in a public form (see csrf_by_origin), for a signed-in
    member of staff only: an anonymous visitor's page carries no token and so starts no
    session."""
    if not current_user.is_authenticated:
        return Markup("")
    return Markup('<input type="hidden" name="csrf_token" value="%s">') % generate_csrf()


FRAMES_KEY = "lodestar.frames"


def allow_frames(app, endpoint: str, hosts) -> None:
    """Let the pages of `endpoint` frame `hosts` (a video page's players) on top of
    CSP_FRAME_HOSTS: every other page keeps its frame-src to our own origin. Decided by
    the endpoint after the view, so a page served from the page cache has it too."""
    app.extensions.setdefault(FRAMES_KEY, {})[endpoint] = tuple(hosts)


def content_security_policy(app, *, frame_ancestors: str = "'none'", frames=()) -> str:
    hosts = dict.fromkeys((*app.config["CSP_FRAME_HOSTS"], *frames))
    frame_hosts = " ".join(f"https://{host}" for host in hosts)
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: https:",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"frame-src 'self' {frame_hosts}".strip(),
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        ]
    )


def security_headers(app) -> list[tuple[str, str]]:
    return [
        ("Content-Security-Policy", content_security_policy(app)),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]


def embeddable_by(response, origins) -> None:
    """Let exactly `origins` (https://partner.example, …) show `response` in a frame
    (an embedded form): the site's policy with their frame-ancestors, and no
    X-Frame-Options (whose DENY would win in old browsers). No origin: no frame at all."""
    ancestors = " ".join(sorted(origins)) or "'none'"
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app, frame_ancestors=ancestors
    )
    response.embeddable = True


def reads_json(view):
    """Mark a view that takes a JSON body (the others read forms: see below)."""
    view.reads_json = True
    return view


def _has_nul(values) -> bool:
    return any("\x00" in value for _key, value in values)


def has_nul_in_headers(environ) -> bool:
    """A NUL in any request header: the WSGI environ's HTTP_* and CONTENT_* values, read
    as they are (what request.headers gives, without building its pairs)."""
    return any(
        "\x00" in value
        for key, value in environ.items()
        if key.startswith(("HTTP_", "CONTENT_")) and isinstance(value, str)
    )


def refuse_unreadable_input():
    """Refuse, before any view runs, what no view can use:
    - a NUL character in the query string, a form or a header: nobody types one,
      PostgreSQL cannot store one (the view would end in a 500), and a NUL in a name or
      a filter would be stored or searched for as something else on SQLite;
    - a JSON body for a view that reads a form: Flask-WTF would take it as the form's
      data, with numbers and lists where its fields expect text."""
    if request.method != "GET" and request.is_json:
        view = current_app.view_functions.get(request.endpoint)
        if view is not None and not getattr(view, "reads_json", False):
            return render_error(415)
    form = request.form.items(multi=True) if request.method != "GET" else ()
    args = request.args.items(multi=True) if request.environ.get("QUERY_STRING") else ()
    if _has_nul(args) or _has_nul(form) or has_nul_in_headers(request.environ):
        return render_error(400, str(_l("A NUL character (\\0) cannot be part of what you send.")))
    return None


def init_app(app):
    trusted = int(app.config.get("PROXY_FIX_X_FOR") or 0)
    if trusted:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted, x_prefix=trusted
        )
    app.jinja_env.globals["staff_csrf_field"] = staff_csrf_field
    defaults = [(name.lower(), name, value) for name, value in security_headers(app)]
    framing = app.extensions.setdefault(FRAMES_KEY, {})  # filled by the packages' init_app

    app.before_request(refuse_unreadable_input)

    @app.after_request
    def set_security_headers(response):
        """Each header unless the view set its own (the mail preview's frame policy).
        One pass over the response's few headers: Headers.setdefault looks each name up
        with an exception when it is missing, six times per request."""
        headers = response.headers
        present = {name.lower() for name, _value in headers.items()}
        if getattr(response, "embeddable", False):
            present.add("x-frame-options")
        if request.endpoint in framing and "content-security-policy" not in present:
            headers.add(
                "Content-Security-Policy", content_security_policy(app, frames=framing[request.endpoint])
            )
            present.add("content-security-policy")
        headers.extend([(name, value) for key, name, value in defaults if key not in present])
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", "max-age=31536000")
        return response
