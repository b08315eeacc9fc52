"""Lead scoring, the MQL hand-off to sales and the dormant pool."""


def init_app(app) -> None:
    """Connect scoring to recorded events; register the scoring admin and commands."""
