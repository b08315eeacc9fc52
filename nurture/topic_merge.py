"""When two leads merge (gated.merging) and both decided about one topic, the person's
most recent decision is the one that holds; decisions made at the same moment resolve to
leaving the topic, the stricter (gated.merge_carry states every carry rule)."""

from gated.merge_carry import add_clash_rule


def newer_choice(mine, theirs) -> bool:
    """Whether the merged lead's topic choice wins over the survivor's."""
    if theirs["changed_at"] != mine["changed_at"]:
        return theirs["changed_at"] > mine["changed_at"]
    return mine["subscribed"] and not theirs["subscribed"]


def connect(app) -> None:
    add_clash_rule(app, "topic_choices", newer_choice)
