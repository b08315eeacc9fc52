"""factory_boy factories bound to the app's db.session. Packages add theirs here."""

import factory

from accounts.models import User
from core.extensions import db
from insights.scoring.models import ScoreRule

TEST_PASSWORD = "correct horse battery"


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    name = factory.Sequence(lambda n: f"Staff {n}")
    role = "editor"
    password_hash = factory.LazyFunction(lambda: _hashed(TEST_PASSWORD))


class ScoreRuleFactory(BaseFactory):
    """A lead-scoring rule; the test databases start without the migrations' defaults."""

    class Meta:
        model = ScoreRule

    name = factory.Sequence(lambda n: f"rule {n}")
    kind = "action"
    event_kind = ""
    field = ""
    pattern = ""
    points = 1
    daily_cap = 0


def _hashed(password: str) -> str:
    from werkzeug.security import generate_password_hash

    # A cheap hash keeps the suite fast; the real default is checked in the accounts tests.
    return generate_password_hash(password, method="pbkdf2:sha256:1000")
