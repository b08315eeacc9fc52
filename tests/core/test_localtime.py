"""Times as staff read them: the site's zone (LODESTAR_TIMEZONE) or the user's own, the
locale's format, across a daylight-saving change (America/New_York) and in a zone without
one (Asia/Shanghai); CSV exports with the offset. (No admin page says UTC:
tests/core/test_admin_pages.py.)"""

import csv
import io
from datetime import date, datetime

import pytest

from core.config import SettingsError
from core.extensions import db
from core.localtime import iso_local, local_date, local_time, mail_date
from gated.models import Lead

pytestmark = pytest.mark.usefixtures("app")

# 2026-03-08 02:00 is when New York moves its clocks forward, 2026-11-01 02:00 back.
BEFORE_SPRING = datetime(2026, 3, 8, 6, 30)  # 01:30 EST
AFTER_SPRING = datetime(2026, 3, 8, 7, 30)  # 03:30 EDT
FIRST_AUTUMN = datetime(2026, 11, 1, 5, 30)  # 01:30 EDT
SECOND_AUTUMN = datetime(2026, 11, 1, 6, 30)  # 01:30 EST, again


def test_the_locales_formats_in_shanghai():
    at = datetime(2026, 12, 7, 1, 0)
    assert local_time(at, tz="Asia/Shanghai", locale="zh_CN") == "2026年12月7日 09:00"
    assert local_time(at, tz="Asia/Shanghai", locale="en") == "Dec 7, 2026, 9:00\u202fAM"
    assert local_date(datetime(2026, 12, 6, 17, 0), tz="Asia/Shanghai", locale="zh_CN") == "2026年12月7日"
    assert (
        local_date(date(2026, 12, 7), locale="en") == local_date("2026-12-07", locale="en") == "Dec 7, 2026"
    )
    assert local_time(None) == "—"


def test_new_york_across_both_daylight_saving_changes():
    def shown(at):
        return local_time(at, tz="America/New_York", locale="en")

    assert shown(BEFORE_SPRING) == "Mar 8, 2026, 1:30\u202fAM"
    assert shown(AFTER_SPRING) == "Mar 8, 2026, 3:30\u202fAM"
    assert shown(FIRST_AUTUMN) == shown(SECOND_AUTUMN) == "Nov 1, 2026, 1:30\u202fAM"
    assert iso_local(BEFORE_SPRING, tz="America/New_York") == "2026-03-08T01:30:00-05:00"
    assert iso_local(AFTER_SPRING, tz="America/New_York") == "2026-03-08T03:30:00-04:00"
    assert iso_local(FIRST_AUTUMN, tz="America/New_York") == "2026-11-01T01:30:00-04:00"
    assert iso_local(SECOND_AUTUMN, tz="America/New_York") == "2026-11-01T01:30:00-05:00"
    assert iso_local(SECOND_AUTUMN, tz="Asia/Shanghai") == "2026-11-01T14:30:00+08:00"


def test_without_a_zone_of_its_own_a_time_is_in_the_sites(make_app):
    app = make_app(TIMEZONE="America/New_York")
    with app.app_context():
        assert local_time(AFTER_SPRING, locale="en") == "Mar 8, 2026, 3:30\u202fAM"
        assert iso_local(AFTER_SPRING).endswith("-04:00")


def test_a_time_zone_that_does_not_exist_stops_the_start(make_app):
    with pytest.raises(SettingsError, match="LODESTAR_TIMEZONE"):
        make_app(TIMEZONE="Asia/Beijing")


def _lead(created_at) -> Lead:
    lead = Lead(email="wang@example.cn", created_at=created_at)
    db.session.add(lead)
    db.session.commit()
    return lead


def test_the_lead_list_shows_each_reader_their_own_time(login_as):
    _lead(AFTER_SPRING)
    site = login_as("marketer").get("/admin/leads/?lang=zh_CN").get_data(as_text=True)
    assert "2026年3月8日 15:30" in site and "UTC" not in site
    own = (
        login_as("marketer", timezone="America/New_York").get("/admin/leads/?lang=en").get_data(as_text=True)
    )
    assert "Mar 8, 2026, 3:30\u202fAM" in own


def test_the_csv_export_carries_the_offset(login_as):
    _lead(SECOND_AUTUMN)
    text = login_as("marketer").get("/admin/leads/export.csv").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert row["created_at"] == "2026-11-01T14:30:00+08:00"
    text = (
        login_as("marketer", timezone="America/New_York")
        .get("/admin/leads/export.csv")
        .get_data(as_text=True)
    )
    assert (
        next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))["created_at"] == "2026-11-01T01:30:00-05:00"
    )


def test_a_mails_date_header_reads_in_the_zone(app):
    # The outbox lists caught mail by its Date header: 23:30 UTC is 07:30 the next day in
    # Shanghai, with no English weekday and no offset left.
    with app.test_request_context():
        assert mail_date("Sat, 05 Dec 2026 23:30:00 +0000", tz="Asia/Shanghai", locale="zh_CN") == (
            "2026年12月6日 07:30"
        )
        assert mail_date("not a date", tz="Asia/Shanghai", locale="zh_CN") == "not a date"
