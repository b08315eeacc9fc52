"""Every action the code sends to the audit log has words in the reader's language: a
new action without a label would show its code on the audit page."""

import re
from pathlib import Path

from flask_babel import force_locale

from accounts.labels import AUDIT_ACTION_LABELS, audit_action_label

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "api", "assistant", "campaigns", "content", "core", "gated", "insights", "nurture")
SENT = re.compile(r'(?:send_staff_action|\baudit)\(\s*"([a-z_]+\.[a-z_]+)"')


def sent_actions() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found.update(SENT.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_action_sent_has_a_label_in_chinese(app):
    actions = sent_actions()
    assert {"api.key_create", "leads.export", "accounts.sign_in"} <= actions  # the scan finds them
    assert actions - set(AUDIT_ACTION_LABELS) == set()
    with app.test_request_context(), force_locale("zh_CN"):
        words = {action: audit_action_label(action) for action in AUDIT_ACTION_LABELS}
    assert {action for action, label in words.items() if not re.search(r"[\u4e00-\u9fff]", label)} == set()
