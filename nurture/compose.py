"""What a queued message says: a nurture step personalised for its lead, or one of
gated's transactional templates, wrapped in the mail layout with the footer every mail to
a prospect carries (sender, postal address, why you get this, unsubscribe); or a mail to
staff, whose footer says only why the staff member gets it."""

from functools import lru_cache

import css_inline
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from core import tokens
from core.urls import absolute_url
from nurture import personalise
from nurture.email import Rendered, sender_parts, tag_link, track_links

# Mail clients drop <style>, so the body's tags get these rules as inline styles
# (css-inline, which applies them as a browser would, selectors and all).
MAIL_BODY_CSS = """
p { margin: 0 0 14px; }
h1 { margin: 0 0 14px; font-size: 22px; line-height: 1.35; color: #111827; }
h2 { margin: 18px 0 10px; font-size: 19px; line-height: 1.4; color: #111827; }
h3 { margin: 16px 0 8px; font-size: 17px; color: #111827; }
a { color: #1d4ed8; text-decoration: underline; }
ul, ol { margin: 0 0 14px; padding-left: 22px; }
li { margin: 0 0 6px; }
blockquote { margin: 0 0 14px; padding: 4px 14px; border-left: 3px solid #c7d2fe; color: #374151; }
table { border-collapse: collapse; margin: 0 0 14px; }
th, td { border: 1px solid #e2e7ef; padding: 6px 10px; }
th { text-align: left; }
code { font-family: Menlo, Consolas, monospace; font-size: 14px; background: #f3f5f9; padding: 1px 4px; }
"""


def inline_styles(html: str) -> str:
    """A mail body (a fragment, not a document) with MAIL_BODY_CSS inlined."""
    return css_inline.inline_fragment(html, MAIL_BODY_CSS)


def unsubscribe_url(message_id: int) -> str:
    return absolute_url(f"/u/{_unsubscribe_token(message_id, current_app.config['SECRET_KEY'])}")


@lru_cache(maxsize=1024)
def _unsubscribe_token(message_id: int, _secret: str) -> str:
    """Each mail uses its unsubscribe link three times (body, footer, header): sign once."""
    return tokens.sign("unsubscribe", message_id)


def click_url(message_id: int, target: str) -> str:
    return absolute_url(f"/t/c/{tokens.sign('click', [message_id, target])}")


def open_url(message_id: int) -> str:
    return absolute_url(f"/t/o/{tokens.sign('open', message_id)}")


def download_url(lead_id: int, asset_id: int | None) -> str:
    """The signed download link of the asset that enrolled the lead; the library when
    the enrollment came from elsewhere."""
    if asset_id:
        try:
            from gated.downloads import make_download_url
        except ImportError:
            make_download_url = None
        if make_download_url:
            return make_download_url(lead_id, asset_id, external=True, mailed=True)
    return absolute_url("/library/")


def step_context(lead, *, message_id: int, asset_id: int | None) -> dict:
    return {
        "lead": personalise.lead_context(lead),
        "download_url": download_url(lead.id, asset_id),
        "unsubscribe_url": unsubscribe_url(message_id),
        "site_url": absolute_url(),
        "site_name": current_app.config["SITE_NAME"],
    }


def compose_step(
    step,
    lead,
    *,
    message_id: int,
    asset_id: int | None,
    locale: str,
    track: bool = True,
    link_tags: dict[str, str] | None = None,
) -> Rendered:
    """A nurture step for one lead, with tracked links and an open pixel; `link_tags`
    (a campaign's utm_* parameters) are added to the links to the site first."""
    context = step_context(lead, message_id=message_id, asset_id=asset_id)
    subject, text, html = personalise.render_step(step.subject, step.body, context)
    site_url = current_app.config["SITE_URL"]

    def target(url: str) -> str:
        return tag_link(url, link_tags or {}, site_url)

    if track:
        html = track_links(html, lambda url: click_url(message_id, target(url)))
    elif link_tags:
        html = track_links(html, target)
    return wrap(
        Rendered(subject, text, inline_styles(html)),
        message_id=message_id,
        locale=locale,
        transactional=False,
        pixel=track,
    )


MAIL_PARTS = ("subject.txt", "body.txt", "body.html")


def _render_folder(template: str, values: dict, locale: str, names=MAIL_PARTS) -> list[str]:
    """The files `names` of a template folder rendered in `locale` (the first, the
    subject, on one line)."""
    env = current_app.jinja_env
    values = {"site_url": absolute_url(), "site_name": current_app.config["SITE_NAME"], **values}
    with force_locale(locale.replace("-", "_")):
        out = [env.get_template(f"{template}/{name}").render(values) for name in names]
    out[0] = " ".join(out[0].split())
    return out


def compose_transactional(template: str, lead, context: dict, *, message_id: int, locale: str) -> Rendered:
    """One of gated's templates (a folder with subject.txt, body.txt, body.html)."""
    values = {**(context or {}), "lead": lead, "unsubscribe_url": unsubscribe_url(message_id)}
    subject, text, html = _render_folder(template, values, locale)
    return wrap(
        Rendered(subject, text, inline_styles(html)),
        message_id=message_id,
        locale=locale,
        transactional=True,
        pixel=False,
    )


def compose_staff(template: str, context: dict, *, locale: str) -> Rendered:
    """A mail to staff: the folder's reason.txt (why this person gets it) is the whole
    footer; no postal address or unsubscribe link, which are for prospects."""
    subject, text, html, reason = _render_folder(
        template, dict(context or {}), locale, (*MAIL_PARTS, "reason.txt")
    )
    reason = " ".join(reason.split())
    env = current_app.jinja_env
    values = {
        "subject": subject,
        "preheader": subject,
        "site_name": current_app.config["SITE_NAME"],
        "reason": reason,
        "html_lang": "en" if locale.startswith("en") else "zh-CN",
    }
    return Rendered(
        subject,
        env.get_template("nurture/email/layout.txt").render(body=text.strip(), **values),
        env.get_template("nurture/email/layout.html").render(body=Markup(inline_styles(html)), **values),
    )


# Per-message values are written into the cached layout at these marks.
MARKS = {
    "subject": "@@subject@@",
    "body": "@@body@@",
    "unsubscribe_url": "@@unsubscribe@@",
    "pixel": "@@pixel@@",
}


@lru_cache(maxsize=32)
def _layout(locale: str, transactional: bool, pixel: bool, settings: tuple) -> tuple[str, str]:
    """The HTML and text layouts rendered once per language and kind, with marks where
    each message's subject, body and links go (the layout is most of a mail's bytes)."""
    site_name, sender, postal_address = settings
    name, address, _domain = sender_parts(sender)
    env = current_app.jinja_env
    with force_locale(locale.replace("-", "_")):
        reason = (
            _("You receive this because you asked for it on our site.")
            if transactional
            else _("You receive this because you downloaded our content and agreed to hear from us.")
        )
        values = {
            "subject": MARKS["subject"],
            "preheader": MARKS["subject"],
            "site_name": site_name,
            "sender_name": name or address,
            "postal_address": postal_address,
            "unsubscribe_url": MARKS["unsubscribe_url"],
            "unsubscribe_label": _("Unsubscribe"),
            # The plain-text line, its colon as the language writes it (退订：…).
            "unsubscribe_line": _("Unsubscribe: %(url)s", url=MARKS["unsubscribe_url"]),
            "reason": reason,
            "open_pixel_url": MARKS["pixel"] if pixel else "",
            "html_lang": "en" if locale.startswith("en") else "zh-CN",
        }
        html = env.get_template("nurture/email/layout.html").render(body=MARKS["body"], **values)
        text = env.get_template("nurture/email/layout.txt").render(body=MARKS["body"], **values)
    return html, text


def postal_address(locale: str) -> str:
    """The footer's postal address in the mail's language: COMPANY_POSTAL_ADDRESS_EN for
    English when set, else COMPANY_POSTAL_ADDRESS."""
    config = current_app.config
    if locale.startswith("en") and config.get("COMPANY_POSTAL_ADDRESS_EN"):
        return config["COMPANY_POSTAL_ADDRESS_EN"]
    return config["COMPANY_POSTAL_ADDRESS"]


def wrap(inner: Rendered, *, message_id: int, locale: str, transactional: bool, pixel: bool) -> Rendered:
    """The layout around a body: a full HTML document and the plain-text twin."""
    config = current_app.config
    settings = (config["SITE_NAME"], config["MAIL_DEFAULT_SENDER"], postal_address(locale))
    html, text = _layout(locale, transactional, pixel, settings)
    unsubscribe = unsubscribe_url(message_id)
    html = (
        html.replace(MARKS["subject"], str(escape(inner.subject)))
        .replace(MARKS["unsubscribe_url"], unsubscribe)
        .replace(MARKS["pixel"], open_url(message_id) if pixel else "")
        .replace(MARKS["body"], inner.html)
    )
    text = text.replace(MARKS["unsubscribe_url"], unsubscribe).replace(MARKS["body"], inner.text.strip())
    return Rendered(inner.subject, text, html)
