"""Readers' feedback on an article: a yes or no to "was this helpful", with a comment."""

from datetime import datetime

from sqlalchemy import func, select

from content.models import Feedback
from core.extensions import db


def record_feedback(article_id: int, helpful: bool, comment: str = "", *, now: datetime) -> Feedback:
    """Record a reader's yes/no (and comment, trimmed to 2,000 characters)."""
    feedback = Feedback(
        article_id=article_id, helpful=helpful, comment=(comment or "").strip()[:2000], created_at=now
    )
    db.session.add(feedback)
    db.session.commit()
    return feedback


def feedback_counts(article_id: int) -> dict:
    rows = db.session.execute(
        select(Feedback.helpful, func.count())
        .where(Feedback.article_id == article_id)
        .group_by(Feedback.helpful)
    )
    counts = {"yes": 0, "no": 0}
    for helpful, count in rows:
        counts["yes" if helpful else "no"] = count
    return counts
