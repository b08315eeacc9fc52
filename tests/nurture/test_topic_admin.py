"""The topics admin: who may use it, how many leads receive each topic, creating and
editing a topic (opt-in only included), and bad input beside its field with nothing saved."""

import pytest

from core.extensions import db
from core.timeutil import utcnow
from nurture import topics
from nurture.models import Topic
from tests.nurture.conftest import make_lead

pytestmark = pytest.mark.usefixtures("topics")


@pytest.mark.parametrize("role", ["sales", "editor"])
def test_only_marketers_and_admins(login_as, role):
    client = login_as(role)
    assert client.get("/admin/topics/").status_code == 403
    assert client.post("/admin/topics/new", data={"name": "x", "slug": "x"}).status_code == 403
    assert Topic.query.count() == 4


def test_the_list_counts_who_receives_each_topic_now(login_as):
    make_lead("a@example.com")
    make_lead("b@example.com", consent=False)
    html = login_as("marketer").get("/admin/topics/").get_data(as_text=True)
    assert html.count('<td class="num">1</td>') == 4  # the lead with consent, in every topic


def test_a_marketer_creates_an_opt_in_only_topic_that_goes_to_nobody_yet(login_as):
    make_lead("a@example.com")
    client = login_as("marketer")
    response = client.post(
        "/admin/topics/new",
        data={"name": "网络研讨会", "slug": "webinars", "description": "每季度一次", "opt_in_only": "y"},
    )
    assert response.status_code == 302
    webinars = topics.by_slug("webinars")
    assert (webinars.name, webinars.opt_in_only) == ("网络研讨会", True)
    assert '<td class="num">0</td>' in client.get("/admin/topics/").get_data(as_text=True)
    client.post(f"/admin/topics/{webinars.id}", data={"name": "网络研讨会", "slug": "webinars"})
    db.session.expire_all()
    assert topics.by_slug("webinars").opt_in_only is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "slug": "x"}, "name"),
        ({"name": "活动", "slug": "Bad Slug"}, "slug"),
        ({"name": "活动", "slug": "a.b"}, "slug"),
        ({"name": "活动", "slug": "events"}, "slug"),  # taken
    ],
)
def test_bad_input_is_named_beside_the_field_and_nothing_is_saved(login_as, data, field):
    response = login_as("marketer").post("/admin/topics/new", data=data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert Topic.query.count() == 4


def test_the_lead_page_shows_each_topic_and_the_persons_choice(login_as):
    lead = make_lead("a@example.com")
    events = topics.by_slug("events")
    topics.leave(lead.id, events.id, topics.Decision(source="one_click", now=utcnow()))
    db.session.commit()
    html = login_as("sales").get(f"/admin/leads/{lead.id}").get_data(as_text=True)
    section = html[html.index('id="topics"') :]
    row = section[section.index("活动与直播") : section.index("</tr>", section.index("活动与直播"))]
    assert "否" in row and "已退订 · 一键退订" in row
    assert login_as("editor").get(f"/admin/leads/{lead.id}").status_code == 403
