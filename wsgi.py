"""WSGI entry for gunicorn: `gunicorn wsgi:app`."""

from app import create_app
from core.memory import freeze_startup_objects

app = create_app()
# Each worker process imports this module once: what start-up made lives as long as it.
freeze_startup_objects()
