"""全员营销 through the real pipeline: a staff member's and a partner's personal links,
visits and a lead through them (the landing page's hidden fields, gated's capture, the
lead_captured credit), the lead page, the leaderboard and the sharer's home."""

from datetime import timedelta

from sqlalchemy import select

from channels import sharing
from channels.models import LinkLead, ShortLink
from channels.sitedays import site_day
from core.extensions import db
from core.timeutil import utcnow
from gated.models import Lead
from tests.channels.conftest import follow_and_submit
from tests.factories import UserFactory


def test_a_lead_through_a_staff_link_is_credited_to_the_sharer(whitepaper, client, login_as):
    article, _asset = whitepaper
    sharer = login_as("sales", name="陈晓")
    editor_page = login_as("editor").get(f"/admin/content/{article.id}")
    assert f'href="/admin/share/{article.id}"' in editor_page.text  # the article page's share panel
    page = sharer.get(f"/admin/share/{article.id}")
    assert page.status_code == 200
    link = db.session.scalar(select(ShortLink).where(ShortLink.sharer_user_id == sharer.user.id))
    assert f"/s/{link.code}" in page.text
    assert sharer.get(f"/admin/share/{article.id}").status_code == 200
    assert db.session.scalar(select(db.func.count()).select_from(ShortLink)) == 1  # one link per sharer

    response, tags = follow_and_submit(client, f"/s/{link.code}?qr=1", email="buyer@example.com")
    assert response.status_code == 303
    assert tags == {
        "utm_source": "staff",
        "utm_medium": "qr",
        "utm_campaign": "share",
        "utm_content": f"s-{link.code}",
    }
    lead = db.session.scalar(select(Lead).where(Lead.email == "buyer@example.com"))
    assert (lead.first_utm_source, lead.first_utm_medium, lead.first_utm_content) == (
        "staff",
        "qr",
        f"s-{link.code}",
    )
    (credit,) = db.session.scalars(select(LinkLead)).all()
    assert (credit.link_id, credit.lead_id) == (link.id, lead.id)

    marketer = login_as("marketer")
    lead_page = marketer.get(f"/admin/leads/{lead.id}")
    assert "陈晓" in lead_page.text and f"/s/{link.code}" in lead_page.text
    home = sharer.get("/admin/")
    assert "share-home" in home.text
    figures = sharing.figures_of_user(sharer.user.id, today=site_day(utcnow()))
    assert figures == {"links": 1, "week_visits": 1, "week_leads": 1, "visits": 1, "leads": 1}


def test_sales_find_what_to_share_from_their_home_without_the_article_editor(whitepaper, login_as):
    article, _asset = whitepaper
    sales = login_as("sales")
    assert sales.get(f"/admin/content/{article.id}").status_code == 403  # the editor's page is not theirs
    home = sales.get("/admin/").text
    assert 'href="/admin/share/"' in home  # the home's sharing panel and the menu lead there
    index = sales.get("/admin/share/?lang=zh_CN").text
    assert "分享内容" in index and article.title in index
    assert f'href="/admin/share/{article.id}"' in index
    found = sales.get("/admin/share/", query_string={"q": " saas  续费 "}).text  # any case, spaces as one
    assert f'href="/admin/share/{article.id}"' in found
    nothing = sales.get("/admin/share/", query_string={"q": "没有这个标题%_"}).text
    assert (
        "没有标题含“没有这个标题%_”的已发布文章。" in nothing and f"/admin/share/{article.id}" not in nothing
    )
    assert sales.get(f"/admin/share/{article.id}").status_code == 200


def test_the_leaderboard_ranks_sharers_and_content_of_the_week(whitepaper, client, login_as, database_url):
    article, _asset = whitepaper
    marketer = login_as("marketer")
    partner = sharing.save_partner("渠道伙伴甲", "微信 partner-a", now=utcnow())
    assert (
        marketer.post(f"/admin/share/{article.id}/partner", data={"partner_id": partner.id}).status_code
        == 303
    )
    partner_link = db.session.scalar(select(ShortLink).where(ShortLink.partner_id == partner.id))
    staff = UserFactory(role="editor", name="李娜")
    staff_link = sharing.share_link(article, now=utcnow(), user_id=staff.id)

    # The partner brings two visits and two leads, the staff member three visits and one.
    for number in range(2):
        follow_and_submit(
            client.application.test_client(), f"/s/{partner_link.code}", email=f"p{number}@example.com"
        )
    for _visit in range(2):
        client.get(f"/s/{staff_link.code}")
    follow_and_submit(client.application.test_client(), f"/s/{staff_link.code}?qr=1", email="s@example.com")

    start = sharing.week_start(site_day(utcnow()))
    board = [(row.label, row.visits, row.leads) for row in sharing.sharer_board(start=start)]
    assert board == [("渠道伙伴甲（合作伙伴）", 2, 2), ("李娜", 3, 1)]
    content = sharing.content_board(start=start)
    assert [(row.article_id, row.visits, row.leads) for row in content] == [(article.id, 5, 3)]
    # Last week had nothing.
    assert sharing.sharer_board(start=start - timedelta(days=7)) == []

    page = marketer.get("/admin/links/leaderboard")
    assert page.status_code == 200 and "李娜" in page.text and "渠道伙伴甲" in page.text
    per_article = marketer.get(f"/admin/links/leaderboard?article={article.id}&week={start.isoformat()}")
    assert per_article.status_code == 200 and "李娜" in per_article.text
    assert marketer.get("/admin/links/leaderboard?week=bad&article=99999999999999").status_code == 200
    insights = marketer.get("/admin/insights/")
    sharers = insights.text.split('id="insights-sharers-title"')[1].split("</section>")[0]
    assert sharers.index("渠道伙伴甲") < sharers.index("李娜")


def test_a_lead_confirmed_twice_is_credited_once(whitepaper, client, login_as):
    article, _asset = whitepaper
    link = sharing.share_link(article, now=utcnow(), user_id=UserFactory(role="sales").id)
    follow_and_submit(client, f"/s/{link.code}", email="twice@example.com")
    lead = db.session.scalar(select(Lead).where(Lead.email == "twice@example.com"))
    submission = lead.submissions[0]
    sharing.credit_lead(None, submission_id=submission.id, lead_id=lead.id)
    db.session.commit()
    assert db.session.scalar(select(db.func.count()).select_from(LinkLead)) == 1


def test_only_marketers_name_partners_and_see_others_qr(whitepaper, login_as):
    article, _asset = whitepaper
    sales = login_as("sales")
    partner = sharing.save_partner("伙伴乙", "", now=utcnow())
    assert (
        sales.post(f"/admin/share/{article.id}/partner", data={"partner_id": partner.id}).status_code == 403
    )
    other = sharing.share_link(article, now=utcnow(), user_id=UserFactory(role="editor").id)
    assert sales.get(f"/admin/share/link/{other.id}/download/qr.png").status_code == 404
    assert sales.get("/admin/links/").status_code == 403
    mine = sharing.share_link(article, now=utcnow(), user_id=sales.user.id)
    assert sales.get(f"/admin/share/link/{mine.id}/download/qr.png").headers["Content-Type"] == "image/png"
