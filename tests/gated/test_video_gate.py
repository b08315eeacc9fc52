"""A gated video: the free minutes with the white paper's lead form under the player, the
submission captured as a white paper's but as a video lead (held ones too), then the
whole file by a signed address."""

import re

import pytest
from sqlalchemy import select

from core.extensions import db
from gated.models import Lead, Submission
from tests.factories import form_data, mp4_bytes, video_article

pytestmark = pytest.mark.usefixtures("app", "video_dir")


@pytest.fixture
def gated_video(app):
    return video_article(app, mp4_bytes(2048), title="线索评分实战", summary="演示", free_minutes=2)


def test_the_free_minutes_play_and_the_lead_form_waits_under_the_player(client, gated_video):
    page = client.get(gated_video.url_path).get_data(as_text=True)
    assert 'data-free-seconds="120"' in page
    assert f'src="/videos/{gated_video.slug}/media/{gated_video.video_file}"' in page
    assert f'action="/videos/{gated_video.slug}/watch"' in page and 'name="email"' in page
    assert "观看完整视频" in page and "前 2 分钟免费观看" in page


def test_an_ungated_video_shows_no_form_and_takes_no_submission(app, client):
    free = video_article(app, title="免费视频")
    page = client.get(free.url_path).get_data(as_text=True)
    assert 'name="email"' not in page and "data-free-seconds" not in page
    assert client.post(f"/videos/{free.slug}/watch", data=form_data()).status_code == 404


def test_a_lead_leaves_details_and_watches_the_whole_file_by_a_signed_address(client, gated_video):
    response = client.post(f"/videos/{gated_video.slug}/watch", data=form_data())
    assert response.status_code == 303
    lead = db.session.scalars(select(Lead)).one()
    submission = db.session.scalars(select(Submission).where(Submission.lead_id == lead.id)).one()
    # Its own form type, with its video: reports tell video leads from white paper leads.
    assert (submission.form, submission.article_id, submission.asset_id) == ("video", gated_video.id, None)
    assert submission.landing_page.startswith(f"/videos/{gated_video.slug}")

    watch = client.get(response.headers["Location"])
    assert watch.status_code == 200 and watch.headers["Cache-Control"] == "private, no-store"
    page = watch.get_data(as_text=True)
    full = re.search(r'<source src="(/videos/full/[^"]+)"', page).group(1)
    assert "data-free-seconds" not in page

    with client.get(full, headers={"Range": "bytes=0-99"}) as part:
        part.get_data()
    assert part.status_code == 206 and part.data == mp4_bytes(2048)[:100]
    assert part.headers["Content-Range"] == "bytes 0-99/2048" and part.headers["Cache-Control"].startswith(
        "private"
    )


def test_without_a_submission_or_with_a_forged_address_there_is_no_whole_file(client, gated_video):
    back = client.get(f"/videos/{gated_video.slug}/watch?t=forged")
    assert back.status_code == 303 and back.headers["Location"].endswith(gated_video.url_path)
    assert client.get("/videos/full/forged.token").status_code == 400


def test_a_bad_submission_is_shown_again_with_the_message_beside_the_field(client, gated_video):
    response = client.post(
        f"/videos/{gated_video.slug}/watch", data=form_data(email="not-an-email", phone="")
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="email-error"' in page and gated_video.title in page
    assert db.session.scalar(select(Lead)) is None


def test_a_held_submission_confirmed_later_lands_on_the_watch_page(client, gated_video):
    """A held video submission is released through the white paper's thank-you address."""
    response = client.get(f"/library/{gated_video.slug}/thanks?t=token")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/videos/{gated_video.slug}/watch?t=token")


def test_a_held_video_submission_is_a_video_lead_once_confirmed(app, client, gated_video, login_as):
    held = client.post(f"/videos/{gated_video.slug}/watch", data=form_data(started=None))
    assert held.status_code == 202 and db.session.scalar(select(Lead)) is None
    token = re.search(r'name="token" value="([^"]+)"', held.get_data(as_text=True)).group(1)
    confirmed = client.post("/forms/confirm", data={"token": token})
    assert confirmed.status_code == 303
    watch = client.get(confirmed.headers["Location"], follow_redirects=True)
    assert watch.status_code == 200 and "/videos/full/" in watch.get_data(as_text=True)
    submission = db.session.scalars(select(Submission)).one()
    assert (submission.form, submission.article_id) == ("video", gated_video.id)
    page = login_as("marketer").get(f"/admin/leads/{submission.lead_id}").get_data(as_text=True)
    assert "视频留资表单" in page and "白皮书表单" not in page
    assert re.search(r'<span class="badge">视频留资表单</span>\s*线索评分实战', page)
