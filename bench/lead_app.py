"""Lodestar plus one bench-only route, the ceiling for lead capture: a bare insert of the
same lead row through the same stack (gunicorn, Flask, the lead forms' CSRF check by
Origin, SQLAlchemy, the database),
without validation, attribution, submission, consent or queued mail."""

from flask import redirect, request

from app import create_app
from core.extensions import db
from core.security import csrf_by_origin
from gated.models import Lead

app = create_app()


@app.post("/bench/bare-lead")
@csrf_by_origin
def bare_lead():
    db.session.add(Lead(email=request.form["email"].strip().lower(), name=request.form.get("name", "")))
    db.session.commit()
    return redirect("/bench/thanks", code=303)
