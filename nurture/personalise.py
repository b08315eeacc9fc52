"""Jinja personalisation of step subjects and bodies, sandboxed and strict.

Marketers write templates in the browser, so they run in a SandboxedEnvironment; an
undefined variable is an error (StrictUndefined), found when the step is saved or
imported rather than in a mail that already went out: every name and every `lead.<field>`
the template mentions is checked statically (a branch the sample lead never takes, such
as `{% if not lead.company %}`, is checked too), then it is rendered for a sample lead.
Compiled templates are cached by their source: the worker renders the same step for
thousands of leads.
"""

import re
import threading
from functools import lru_cache

import markdown
from flask_babel import gettext
from jinja2 import StrictUndefined, TemplateError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from content import bounds

# The longest text or list a template may build with * (a mail is a few KB), and the
# largest exponent of **: a typo such as 'x' * 10**9 must not take the worker's memory.
MAX_BUILT_SIZE = 100_000
MAX_EXPONENT = 64


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, which already bounds range(), with * and ** bounded too."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for sequence, times in ((left, right), (right, left)):
                sized = isinstance(sequence, str | list | tuple) and isinstance(times, int)
                if sized and len(sequence) * times > MAX_BUILT_SIZE:
                    raise SecurityError(f"a value longer than {MAX_BUILT_SIZE:,} characters or items")
        elif operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"an exponent above {MAX_EXPONENT}")
        return super().call_binop(context, operator, left, right)


_text_env = BoundedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
# The HTML path escapes what the lead typed (a name like "<b>"), then Markdown runs.
_html_env = BoundedSandbox(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)

MARKDOWN_EXTENSIONS = ["tables", "sane_lists", "nl2br"]


class PersonalisationError(ValueError):
    """A subject or body that does not render; `field` says which. The message is a
    `template` (English, the msgid screens translate) filled from `params`."""

    def __init__(self, field: str, template: str, **params):
        self.field = field
        self.template = template
        self.params = params
        self.message = template % params if params else template
        super().__init__(f"{field}: {self.message}")

    def translated(self) -> str:
        """The message in the reader's language (the template engine's own wording of a
        syntax error stays as it is)."""
        return gettext(self.template, **self.params)


def unreadable(field: str, exc: Exception) -> PersonalisationError:
    return PersonalisationError(field, "the template cannot be read: %(problem)s", problem=_describe(exc))


@lru_cache(maxsize=512)
def _compiled(source: str, html: bool):
    return (_html_env if html else _text_env).from_string(source)


def lead_context(lead) -> dict:
    """What `lead.*` offers a template, with the fields always present (maybe empty)."""
    return {
        "name": lead.name or "",
        "first_name": lead.first_name or "",
        "company": lead.company or "",
        "email": lead.email or "",
        "job_title": lead.job_title or "",
        "role": lead.role or "",
    }


def sample_context(config) -> dict:
    """A made-up lead and links for previews and save-time validation, on the site of
    `config` (the app's settings: SITE_URL, SITE_NAME)."""
    site_url, site_name = config["SITE_URL"], config["SITE_NAME"]
    return {
        "lead": {
            "name": "王小明",
            "first_name": "王小明",
            "company": "示例科技有限公司",
            "email": "lead@example.com",
            "job_title": "市场总监",
            "role": "decision_maker",
        },
        "download_url": f"{site_url}/download/sample",
        "unsubscribe_url": f"{site_url}/u/sample",
        "site_url": site_url,
        "site_name": site_name,
    }


# What a template can raise besides Jinja's own errors: {{ 1 / 0 }}, {{ 'a' + 1 }},
# range(10**9) (the sandbox's OverflowError), {{ [][1] }} and the like.
RENDER_ERRORS = (
    TemplateError,
    ArithmeticError,
    TypeError,
    ValueError,
    LookupError,
    MemoryError,
    RecursionError,
)


def render_text(source: str, context: dict, *, field: str = "body") -> str:
    try:
        return _compiled(source, False).render(context)
    except RENDER_ERRORS as exc:
        raise unreadable(field, exc) from exc


def subject_as_read(source: str, context: dict) -> str:
    """A subject as a lead of `context` reads it (what staff screens show, never the
    template code); as typed when it does not render."""
    try:
        return render_text(source or "", context, field="subject")
    except PersonalisationError:
        return source or ""


def sample_subject(source: str, config) -> str:
    """A subject as the sample lead reads it."""
    return subject_as_read(source, sample_context(config))


_local = threading.local()


def _markdown() -> markdown.Markdown:
    """One reusable converter per thread (building one costs more than converting)."""
    converter = getattr(_local, "markdown", None)
    if converter is None:
        converter = _local.markdown = markdown.Markdown(extensions=MARKDOWN_EXTENSIONS)
    return converter.reset()


_JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
_HOLDER = re.compile(r"jinjaholder(\d+)x")
_HELD_STATEMENT = re.compile(r"<p>(jinjaholder\d+x)</p>")


@lru_cache(maxsize=256)
def _html_template(source: str):
    """The body's Markdown converted once, its Jinja tags kept, compiled with
    autoescape: per lead only the (cheap) Jinja render runs, and what the lead typed
    is escaped text, never markup."""
    held = []

    def hold(match):
        held.append(match.group(0))
        return f"jinjaholder{len(held) - 1}x"

    bounds.check(source)  # a hostile body is refused before the renderer sees it
    html = _markdown().convert(_JINJA_TAG.sub(hold, source))
    # A {% if %} alone in its paragraph must not leave an empty <p></p> behind.
    html = _HELD_STATEMENT.sub(
        lambda match: match.group(1) if held[int(match.group(1)[11:-1])].startswith("{%") else match.group(0),
        html,
    )
    return _html_env.from_string(_HOLDER.sub(lambda match: held[int(match.group(1))], html))


def render_body_html(source: str, context: dict) -> str:
    """Markdown (cached per body), then Jinja with the lead's values escaped."""
    try:
        return _html_template(source).render(context)
    except RENDER_ERRORS as exc:
        raise unreadable("body", exc) from exc


def render_step(subject: str, body: str, context: dict) -> tuple[str, str, str]:
    """(subject, text, html body fragment) of a step for one lead."""
    rendered_subject = " ".join(render_text(subject, context, field="subject").split())
    return rendered_subject, render_text(body, context), render_body_html(body, context)


# `lead` is a dict: `lead.get('company', 'there')` and `lead.items()` are its own methods.
LEAD_METHODS = frozenset({"get", "items", "keys", "values"})


def unknown_variables(source: str, context: dict) -> list[str]:
    """The variables a template mentions that the context does not offer: names that are
    not context keys (nor set in the template), and `lead.X` / `lead["X"]` for an X the
    lead has not (its dict methods aside). Every branch counts, taken or not. A template
    that binds `lead` itself (set, for, macro argument) is not checked for `lead.X`: which
    lead an expression means would need Jinja's scoping. Raises TemplateError on bad syntax."""
    tree = _text_env.parse(source)
    known = set(context) | set(_text_env.globals)
    unknown = sorted(meta.find_undeclared_variables(tree) - known)
    lead = context.get("lead")
    if isinstance(lead, dict) and not _binds(tree, "lead"):
        for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
            if not (isinstance(node.node, nodes.Name) and node.node.name == "lead"):
                continue
            if isinstance(node, nodes.Getattr):
                if node.attr in LEAD_METHODS:
                    continue
                attribute = node.attr
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                attribute = node.arg.value
            else:
                continue  # lead[some_variable]: nothing to check before it runs
            name = f"lead.{attribute}"
            if attribute not in lead and name not in unknown:
                unknown.append(name)
    return unknown


def _binds(tree: nodes.Template, name: str) -> bool:
    """Whether the template assigns `name` anywhere: set, for, with, macro or call-block
    arguments are Name nodes in the store or param context."""
    return any(node.name == name and node.ctx in ("store", "param") for node in tree.find_all(nodes.Name))


def validate_step(subject: str, body: str, context: dict) -> list[PersonalisationError]:
    """Every problem of a step: a syntax error, a variable the mail will not have (in
    any branch), or an error rendering it for the sample lead. Empty when it is fine."""
    problems = []
    for field, source in (("subject", subject), ("body", body)):
        try:
            unknown = unknown_variables(source, context)
        except TemplateError as exc:
            problems.append(unreadable(field, exc))
            continue
        if unknown:
            problems.append(
                PersonalisationError(
                    field,
                    "unknown variable %(names)s (known: %(known)s)",
                    names=", ".join(unknown),
                    known=", ".join(_known_names(context)),
                )
            )
            continue
        try:
            render_text(source, context, field=field)
            if field == "body":
                render_body_html(source, context)  # the HTML part is compiled on its own
        except PersonalisationError as exc:
            problems.append(exc)
    if not problems and not " ".join(subject.split()):
        problems.append(PersonalisationError("subject", "the subject is empty"))
    return problems


def _known_names(context: dict) -> list[str]:
    names = [name for name in context if name != "lead"]
    if isinstance(context.get("lead"), dict):
        names = [f"lead.{field}" for field in context["lead"]] + names
    return names


def _describe(exc: Exception) -> str:
    line = getattr(exc, "lineno", None)
    where = f" (line {line})" if line else ""
    if isinstance(exc, bounds.TooComplex):
        return str(exc.message)
    if not isinstance(exc, TemplateError):
        return f"{exc.__class__.__name__}: {exc}{where}"
    return f"{exc.message or exc.__class__.__name__}{where}"
