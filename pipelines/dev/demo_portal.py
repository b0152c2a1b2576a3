"""Demo accounts for the units' portal: one per unit, with random passwords.

``make demo`` creates them (a fresh portal store each time) and writes the logins and
passwords to ``portal/demo_accounts.txt`` in the data folder, readable by its owner only
(mode 600); ``make portal`` prints that file. ORG's demo account is admin and reviewer.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pipelines.contracts import load_units
from pipelines.portal import auth
from pipelines.portal.store import session_scope
from pipelines.settings import DataHome

DEMO_ROLES = {"ORG": ("admin", "reviewer")}
DEMO_DISPLAY = {"ORG": "组织部干部监督科演示账号"}


def demo_accounts_file(home: DataHome) -> Path:
    return home.portal_dir / "demo_accounts.txt"


def create_demo_accounts(home: DataHome) -> list[tuple[str, str, str]]:
    """(unit, login, password) per unit; accounts that exist already are left alone."""
    created: list[tuple[str, str, str]] = []
    units = load_units()
    with session_scope(home) as db:
        for code, unit in units.items():
            login = f"{code.lower()}-demo"
            password = secrets.token_urlsafe(12)
            try:
                auth.add_account(db, code, login, password, roles=DEMO_ROLES.get(code, ()),
                                 display_name=DEMO_DISPLAY.get(code, f"{unit.name_zh}演示账号"))
            except auth.AccountError:
                continue
            created.append((code, login, password))
    if created:
        target = demo_accounts_file(home)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("unit  login       password\n")
            for code, login, password in created:
                handle.write(f"{code:<5} {login:<11} {password}\n")
        os.chmod(target, 0o600)
    return created
