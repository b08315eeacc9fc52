"""The content package: see ../shared/DESIGN.md for what it owns."""


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
