"""The places feature packages hang into, kept on app.extensions so that nothing is
global: admin navigation, demo loaders, health checks and development services.

A package calls these from its init_app; core and app.py never import the packages here.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

KEY = "lodestar"
# The admin sidebar's groups, in their order; a link without a group (the overview) comes first.
NAV_GROUPS = {
    "content": _l("Content"),
    "marketing": _l("Marketing"),
    "sales": _l("Sales"),
    "support": _l("Support"),
    "settings": _l("Settings"),
}


@dataclass(order=True)
class NavItem:
    order: int
    label: str = field(compare=False)
    endpoint: str = field(compare=False)
    roles: tuple[str, ...] = field(compare=False, default=())
    group: str = field(compare=False, default="")


@dataclass
class Hooks:
    nav: list[NavItem] = field(default_factory=list)
    demo_loaders: list[tuple[int, str, Callable]] = field(default_factory=list)
    health_checks: dict[str, Callable[[], dict]] = field(default_factory=dict)
    dev_services: list[tuple[str, Callable]] = field(default_factory=list)
    dev_addresses: dict[str, Callable] = field(default_factory=dict)
    timeline_providers: list[Callable[[int], list[dict]]] = field(default_factory=list)
    robots_disallow: list[str] = field(default_factory=list)
    lead_panels: list[Callable] = field(default_factory=list)
    lead_list_actions: list[Callable] = field(default_factory=list)
    lead_list_columns: list[tuple[str, Callable]] = field(default_factory=list)
    translated_paths: list[Callable[[str, str], tuple[str, str] | None]] = field(default_factory=list)
    background_jobs: list[tuple[str, Callable]] = field(default_factory=list)
    home_panels: list[tuple[int, tuple[str, ...], Callable]] = field(default_factory=list)
    article_panels: list[Callable] = field(default_factory=list)
    advisor_cards: list[Callable] = field(default_factory=list)
    article_gates: list[Callable] = field(default_factory=list)
    insights_panels: list[Callable] = field(default_factory=list)
    # Per-article figures a package adds to the content results: (name, label, counts).
    article_figures: list[tuple[str, object, Callable]] = field(default_factory=list)
    # Inputs a package adds to the public lead forms: (posted name, render(kind)).
    form_extras: list[tuple[str, Callable[[str], str]]] = field(default_factory=list)
    # How a detail of an audit entry reads: {(action, detail name): words(value) -> str}.
    audit_words: dict[tuple[str, str], Callable] = field(default_factory=dict)
    # The lead list's saved views (campaigns' segments): (choices, condition), or None.
    lead_views: tuple[Callable, Callable, Callable] | None = None


def hooks(app) -> Hooks:
    return app.extensions.setdefault(KEY, Hooks())


def add_admin_nav(app, label, endpoint, *, roles=(), order=100, group=""):
    """Show a link in the admin sidebar to users with one of `roles` (empty: every staff
    role), under `group` (a key of NAV_GROUPS). `label` is a lazy-translatable string."""
    if group and group not in NAV_GROUPS:
        raise ValueError(f"unknown admin navigation group {group!r}; use one of {', '.join(NAV_GROUPS)}")
    hooks(app).nav.append(NavItem(order, label, endpoint, tuple(roles), group))
    hooks(app).nav.sort()


def grouped_nav(items: list[NavItem]) -> list[tuple[str, list[NavItem]]]:
    """`items` under their groups' labels, in NAV_GROUPS' order ("" first: no group); a
    group with no item is left out."""
    order = ["", *NAV_GROUPS]
    groups = [(key, [item for item in items if item.group == key]) for key in order]
    return [(str(NAV_GROUPS[key]) if key else "", found) for key, found in groups if found]


def add_demo_loader(app, name, loader, *, order=100):
    """`loader(echo)` adds a package's demo data; it must be idempotent."""
    hooks(app).demo_loaders.append((order, name, loader))
    hooks(app).demo_loaders.sort(key=lambda item: item[0])


def add_health_check(app, name, check):
    """`check()` returns a dict with at least {"ok": bool}; it runs in an app context."""
    hooks(app).health_checks[name] = check


def add_background_job(app, name, job):
    """`job(now, stop)` does a bounded slice of a package's queued work and returns counts
    ({outcome: number}). The worker (`flask nurture tick` / `worker`) runs every job on
    each pass, so packages below nurture get background work without importing it."""
    hooks(app).background_jobs.append((name, job))


def add_dev_service(app, name, start, *, listens_on=None):
    """`start(app)` starts a background thread for the development server (`flask serve`):
    the SMTP sink, the nurture worker. Returns a callable that stops it, or None.

    A service that opens a port says which with `listens_on(app)`, returning
    (host, port, the setting that moves it) or None, so `flask serve` can refuse to start
    while the port is taken instead of half-starting."""
    hooks(app).dev_services.append((name, start))
    if listens_on is not None:
        hooks(app).dev_addresses[name] = listens_on


def add_timeline_provider(app, provider):
    """`provider(lead_id)` returns the lead's events a package knows of, as dicts
    {"at": datetime, "kind": str, "label": str, "text": str, "url": str | None}, where
    `label` is the kind in the reader's words (the package owns them); the lead page merges
    them, so gated shows mails and clicks without importing nurture."""
    hooks(app).timeline_providers.append(provider)


def add_robots_disallow(app, path: str):
    """Ask crawlers (robots.txt) to keep out of `path`: pages that act when fetched."""
    hooks(app).robots_disallow.append(path)


def add_lead_panel(app, render):
    """`render(lead)` returns the HTML of a section for the lead admin's page of that lead
    (or "" for nothing), so nurture offers its enroll form there without gated importing
    it. It runs in the request: it checks the user's role itself."""
    hooks(app).lead_panels.append(render)


def add_lead_list_action(app, render):
    """`render(filter_args)` returns the HTML of an action on the lead list as filtered
    by `filter_args` (the list's query string as a dict), or ""."""
    hooks(app).lead_list_actions.append(render)


def add_lead_list_column(app, label, cells):
    """A column of the lead list: `label` (lazy-translatable) heads it and `cells(lead_ids)`
    returns {lead_id: text} for the leads of the page shown (one query for the page), so
    the list shows each lead's owner without gated importing scoring."""
    hooks(app).lead_list_columns.append((label, cells))


def add_home_panel(app, render, *, roles=(), order=100):
    """`render(user)` returns the HTML of a section of the staff home at /admin/ for users
    with one of `roles` (empty: every staff role; admins see every section, as they see
    every admin link), or "" for nothing; sections show in `order`: what needs the reader
    now below 100, how things are going from 100. A package puts what needs its users
    there without the home importing it; core.home.panel() draws a section."""
    hooks(app).home_panels.append((order, tuple(roles), render))
    hooks(app).home_panels.sort(key=lambda item: item[0])


def home_panels(app, user) -> list:
    """The rendered sections of `user`'s home, in order, empty ones left out."""
    found = []
    for _order, roles, render in hooks(app).home_panels:
        role = getattr(user, "role", None)
        if roles and role != "admin" and role not in roles:
            continue
        html = render(user)
        if html:
            found.append(html)
    return found


def add_translated_path(app, finder):
    """`finder(path, code)` says where the language switch to `code` (zh_CN, en) lands
    from the page at `path`: (the translated page's path, "") or (a page in that language,
    a notice saying why it is not the translation), or None when it does not know the
    path (the switch then stays on it). It runs with `code` as the current locale."""
    hooks(app).translated_paths.append(finder)


def lead_timeline(app, lead_id: int) -> list[dict]:
    """Every provider's events of a lead, newest first."""
    events = [event for provider in hooks(app).timeline_providers for event in provider(lead_id)]
    return sorted(events, key=lambda event: event["at"], reverse=True)


def add_article_panel(app, render):
    """`render(article)` returns the HTML of a section for the article's admin page (or
    ""), so a package offers its tools there (share links) without content importing it.
    It runs in the request: it checks the user's role itself."""
    hooks(app).article_panels.append(render)


def article_panels(app, article) -> list:
    return [html for html in (render(article) for render in hooks(app).article_panels) if html]


def add_advisor_card(app, render):
    """`render(lead_id=None, owner_id=None, placement="")` returns the HTML of a person to
    talk to (an adviser's contact QR) for a thank-you page or the assistant's hand-over,
    or "". Packages below the one that keeps the cards show them through this."""
    hooks(app).advisor_cards.append(render)


def advisor_card(app, *, lead_id=None, owner_id=None, placement="") -> str:
    """The first adviser card any package offers for that lead or owner, or ""."""
    for render in hooks(app).advisor_cards:
        html = render(lead_id=lead_id, owner_id=owner_id, placement=placement)
        if html:
            return html
    return ""


def add_article_gate(app, render):
    """`render(article)` returns the HTML of the form that opens a gated article's rest
    (a video's lead form after its free minutes), the same for every visitor, or "".
    So content shows gated's lead form without importing it."""
    hooks(app).article_gates.append(render)


def article_gate(app, article) -> str:
    """The first gate any package offers for the article, or ""."""
    for render in hooks(app).article_gates:
        html = render(article)
        if html:
            return html
    return ""


def add_insights_panel(app, render):
    """`render(since, until)` returns the HTML of a section of the insights dashboard for
    that period (inclusive dates, UTC days), or "": figures a package above insights keeps."""
    hooks(app).insights_panels.append(render)


def add_article_figure(app, name: str, label, counts: Callable) -> None:
    """Add a column to insights' content results: `counts(start, end)` returns a select
    of (article_id, count) for the times in [start, end) (naive UTC); `label` is
    lazy-translatable. The assistant adds its deflections this way, unknown to insights."""
    hooks(app).article_figures.append((name, label, counts))


def article_figures(app) -> list[tuple[str, object, Callable]]:
    return hooks(app).article_figures


def insights_panels(app, since, until) -> list:
    return [html for html in (render(since, until) for render in hooks(app).insights_panels) if html]


def set_lead_views(
    app, choices: Callable[[], list[tuple[int, str]]], condition: Callable, find: Callable[[str], int | None]
) -> None:
    """Offer saved views on the lead list: `choices()` gives (id, name) of each,
    `condition(id, now)` the SQL condition on Lead of one (None when there is no such
    view) and `find(slug)` the id of the view with that slug (None: none has it; for
    `flask leads export --segment`). One package provides them (campaigns, with its
    segments)."""
    hooks(app).lead_views = (choices, condition, find)


def lead_views(app) -> tuple[Callable, Callable, Callable] | None:
    return hooks(app).lead_views


def add_audit_words(app, actions, names, words: Callable[[object], str] | dict) -> None:
    """Say how the details `names` of `actions`' audit entries read: `words` (a table
    {code: label}, or a function of the value) gives a code or a set of codes stored in a
    detail (a lead's stage, a return reason) in the reader's words. A name inside a
    detail's dict (a filter's "stage") counts too. So the audit page and export, in
    accounts, show a stage as its label without importing gated."""
    for action in (actions,) if isinstance(actions, str) else actions:
        for name in (names,) if isinstance(names, str) else names:
            hooks(app).audit_words[(action, name)] = words


def audit_words(app, action: str, name: str) -> Callable | None:
    return hooks(app).audit_words.get((action, name))


def add_form_extra(app, name: str, render: Callable[[str], str]) -> None:
    """Add inputs to the public lead forms: `render(kind)` returns their HTML for a form of
    that kind ("" for none; the same for every visitor, so the page stays cacheable), and
    the values posted under `name` are kept in the submission's fields as a list of
    strings, where the package's `lead_captured` receiver reads them. So nurture offers
    its topics on the newsletter form without gated knowing of topics."""
    hooks(app).form_extras.append((name, render))


def form_extras(app) -> list[tuple[str, Callable[[str], str]]]:
    return hooks(app).form_extras
