"""The demo request is reachable where a buyer looks for it: the header and footer of
every public page, each solution and case study, and the thank-you pages as the next step
with two pieces to read next (in the page's language)."""

import re

import pytest

from core.extensions import db
from tests.factories import form_data, make_article

pytestmark = pytest.mark.usefixtures("app")
DEMO_LINK = 'href="/demo-request"'


def section(page: str, css_class: str) -> str:
    """The HTML of the first <section> with that class ("" when there is none)."""
    found = re.search(rf'<section class="[^"]*\b{css_class}\b.*?</section>', page, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def reading():
    """What a thank-you page may offer next, and what it must not."""
    return {
        "case": make_article(title="制造业客户续费率提升 20%", kind="case-study", slug="acme-renewal"),
        "solution": make_article(title="续费预测方案", kind="solution", slug="renewal-forecast"),
        "help": make_article(title="如何导出数据", kind="help", slug="export"),
        "english": make_article(
            title="How Acme grew renewals", kind="case-study", slug="acme-en", locale="en"
        ),
    }


def test_the_header_and_footer_of_public_pages_link_the_demo_request(client, reading):
    for path in ("/", "/help/export", "/library/", "/search?q=续费"):
        page = client.get(path).get_data(as_text=True)
        header = page.split("</header>")[0]
        footer = page.split('<footer class="site-footer">')[1]
        assert DEMO_LINK in header and "预约演示" in header, path
        assert DEMO_LINK in footer, path
    assert client.get("/demo-request").status_code == 200


def test_each_solution_and_case_study_offers_a_demo(client, reading):
    for path in ("/cases/acme-renewal", "/solutions/renewal-forecast"):
        cta = section(client.get(path).get_data(as_text=True), "demo-cta")
        assert DEMO_LINK in cta and "预约演示" in cta, path
    assert section(client.get("/help/export").get_data(as_text=True), "demo-cta") == ""


def test_the_white_papers_thank_you_page_offers_a_demo_and_two_pieces_to_read(client, whitepaper, reading):
    article, _ = whitepaper
    article.category = "客户成功"
    db.session.commit()
    related = make_article(title="续费的五个信号", kind="blog", slug="signals", category="客户成功")
    thanks = client.get(client.post("/library/saas-renewal", data=form_data()).headers["Location"])
    block = section(thanks.get_data(as_text=True), "next-step")
    assert DEMO_LINK in block and "下一步" in block
    links = re.findall(r'<li><a href="([^"]+)"', block)
    # Related to the white paper first, then the newest case study or solution.
    assert len(links) == 2 and links[0] == related.url_path
    assert links[1] in (reading["case"].url_path, reading["solution"].url_path)


@pytest.mark.parametrize(("path", "offers_demo"), [("/demo-request", False), ("/newsletter", True)])
def test_the_other_thank_you_pages_show_the_next_step_in_the_pages_language(
    client, reading, path, offers_demo
):
    thanks = client.get(
        client.post(path, data=form_data(consent="y", message="想了解续费预测")).headers["Location"]
    )
    block = section(thanks.get_data(as_text=True), "next-step")
    assert (DEMO_LINK in block) is offers_demo
    links = set(re.findall(r'<li><a href="([^"]+)"', block))
    assert links == {reading["case"].url_path, reading["solution"].url_path}
