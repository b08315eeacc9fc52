"""The help assistant: answers a question from the help center, asks whether it helped,
and after three unhelpful rounds hands the person to a human or a ticket by their tier.
It uses content's search, gated's leads and nurture's mail queue.
See ../shared/DESIGN.md and docs/ASSISTANT.md."""


def init_app(app):
    """Register the package's blueprints, commands, signal receivers and demo data."""
