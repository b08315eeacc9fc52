"""YAML that people write (segments, campaigns, sequences), read with its dates kept as
the text written: an impossible date (2026-11-31) then reaches the reader's own check and
comes back as a message beside the field, instead of an exception from the parser."""

import yaml

YAMLError = yaml.YAMLError


class _TextDates(yaml.SafeLoader):
    """The safe loader, without turning timestamps into date and datetime objects."""


_TextDates.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def load(text: str):
    """The YAML document in `text`, as yaml.safe_load reads it but for dates (text)."""
    return yaml.load(text, Loader=_TextDates)  # noqa: S506 - a SafeLoader subclass
