"""`flask leads rescore` (recompute every score from its events) and `flask insights
dormant` (decay and the dormant pool; run it daily from cron)."""

import click

from insights.cli import NOW_OPTION, _now


@click.command("rescore")
@NOW_OPTION
def rescore_command(now_text):
    """Recompute every lead's score from its events and the current rules."""
    from core.extensions import db
    from insights.scoring.engine import lead_ids, rescore_lead, rules_by_kind

    now = _now(now_text)
    ids = lead_ids()
    rules = rules_by_kind()
    with click.progressbar(ids, label="Rescoring leads") as bar:
        for number, lead_id in enumerate(bar, 1):
            rescore_lead(lead_id, now=now, rules=rules)
            if number % 200 == 0:
                db.session.commit()
    db.session.commit()
    click.echo(f"leads rescored: {len(ids)}")


@click.command("dormant")
@NOW_OPTION
def dormant_command(now_text):
    """Decay idle scores and move leads idle for SCORING_DORMANT_DAYS to the dormant pool."""
    from insights.scoring.dormant import sweep

    counts = sweep(now=_now(now_text))
    click.echo(f"scores decayed: {counts['decayed']}, leads made dormant: {counts['dormant']}")


@click.command("escalate")
@NOW_OPTION
def escalate_command(now_text):
    """Mail the team's lead every MQL whose response promise ended unanswered (once each)."""
    from insights.scoring.desk import escalate

    counts = escalate(now=_now(now_text))
    click.echo(f"missed promises escalated: {counts.get('escalated', 0)}")
