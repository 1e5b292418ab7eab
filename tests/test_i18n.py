"""English is complete: every message has a translation, and the compiled catalogue matches the source."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LC = ROOT / "app" / "translations" / "en" / "LC_MESSAGES"


def test_every_message_has_an_english_translation():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "translations.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compiled_catalogue_is_current():
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    with (LC / "messages.po").open("rb") as fh:
        po = {key(m.id): key(m.string) for m in read_po(fh) if m.id}
    with (LC / "messages.mo").open("rb") as fh:
        mo = {key(m.id): key(m.string) for m in read_mo(fh) if m.id}
    assert po == mo


def test_staff_pages_in_english(client, login):
    from app.models import Role
    login(Role.ADMIN)
    client.get("/sprache/en")
    page = client.get("/staff/anfragen").get_data(as_text=True)
    assert "Requests" in page and "No requests found." in page and "Anfragen" not in page
    assert "Public and school holidays" in client.get("/staff/sperrzeiten").get_data(as_text=True)
