"""Demo staff: an admin (password printed) and one user per other role."""

from pathlib import Path

from flask import current_app

from accounts import services
from accounts.models import ROLES

DEMO_ADMIN = "admin@lodestar.example"


def load(echo) -> None:
    password_file = Path(current_app.instance_path) / "demo-admin-password"
    if services.find_user(DEMO_ADMIN) is None:
        password = services.generate_password()
        services.create_user(DEMO_ADMIN, role="admin", password=password, name="Admin")
        password_file.write_text(password)
        password_file.chmod(0o600)
    password = password_file.read_text().strip() if password_file.exists() else None
    for role in ROLES:
        if role == "admin":
            continue
        email = f"{role}@lodestar.example"
        if services.find_user(email) is None:
            services.create_user(
                email, role=role, password=password or services.generate_password(), name=role.title()
            )
    if password:
        echo(f"  admin login: {DEMO_ADMIN}  password: {password}")
        echo("  (editor@, marketer@ and sales@lodestar.example share that password)")
    else:
        echo(f"  admin {DEMO_ADMIN} exists; reset with: flask users set-password {DEMO_ADMIN}")
