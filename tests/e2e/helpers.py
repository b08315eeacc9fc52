"""What several browser journeys do: sign a staff user in through the login page,
publish a gated white paper, open the download link a lead was mailed."""

from urllib.parse import urlsplit

STAFF_PASSWORD = "long enough pw"
# WeChat's in-app browser on an iPhone, as it names itself.
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# The staff screens' two sizes: a laptop and a phone.
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def sized_context(browser, live_server, size: str):
    """A browser context of one of SIZES; the phone's is mobile and touches, as a phone does."""
    phone = size == "phone"
    return browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport=SIZES[size], is_mobile=phone, has_touch=phone
    )


def fits(page) -> bool:
    """No sideways scroll: the document is no wider than the window, nor the window (which
    a phone widens to show a page too wide for it) than the screen."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner <= page.viewport_size["width"]


def in_wechat(browser, live_server):
    """A phone's browser context that says it is WeChat's in-app browser."""
    return browser.new_context(
        base_url=live_server.url,
        locale="zh-CN",
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        user_agent=WECHAT_UA,
    )


def publish_whitepaper(slug: str, title: str, pdf: bytes, *, filename: str = "", **article_fields) -> None:
    """A published white paper and its gated PDF (inside the live app's context): no
    body, no sequence unless `article_fields` give them."""
    from tests.factories import make_whitepaper

    blank = {"summary": "摘要", "body_md": "", "body_html": "", "toc_html": "", "sequence_slug": ""}
    make_whitepaper(slug, title, pdf=pdf, filename=filename or f"{slug}.pdf", **{**blank, **article_fields})


def sign_in(page, email: str, password: str = STAFF_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/admin/")


def open_mailed_link(live_app, page) -> None:
    """Open the last download link the site mailed, in the page's browser (as the lead
    clicking it in their inbox): its cookies make the browser a known visitor."""
    from sqlalchemy import select

    from core.extensions import db
    from nurture.models import Message

    with live_app.app_context():
        context = db.session.scalars(
            select(Message.context)
            .where(Message.template == "gated/email/download_link")
            .order_by(Message.id.desc())
            .limit(1)
        ).one()
        db.session.remove()
    link = urlsplit(context["download_url"])
    assert page.request.get(f"{link.path}?{link.query}" if link.query else link.path).ok


def serious_violations(page, axe_source) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    lines = []
    for violation in result["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
    return lines


def fill_body(page, text: str) -> None:
    """Replace an article's body as a person does in the Markdown editor (CodeMirror):
    focus it, select everything, put the text in through the keyboard's input."""
    page.locator(".CodeMirror").click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(text)


def shoot(page, name: str, element=None) -> None:
    """Keep a screenshot (the whole page, or `element`) in LODESTAR_SCREENSHOTS, a folder,
    when it is set: pictures to look at, never compared."""
    import os
    from pathlib import Path

    folder = os.environ.get("LODESTAR_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        path = str(Path(folder) / f"{name}.png")
        element.screenshot(path=path) if element is not None else page.screenshot(path=path, full_page=True)
