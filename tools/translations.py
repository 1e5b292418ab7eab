"""Extract messages, merge them into the English catalogue and compile it.

Usage: python tools/translations.py [--check]
German is the source language; app/translations/en holds the English catalogue. With --check the
command fails when a message has no English translation (run by the test suite)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def main(check: bool) -> int:
    from babel.messages.frontend import CommandLineInterface
    pot = ROOT / "instance" / "messages.pot"
    pot.parent.mkdir(exist_ok=True)
    cli = CommandLineInterface()
    cli.run(["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l", "-k", "lazy_gettext",
             "--no-location", "-o", str(pot), str(ROOT)])
    if check:
        from babel.messages.pofile import read_po
        with PO.open("rb") as fh:
            catalogue = read_po(fh)
        with pot.open("rb") as fh:
            template = read_po(fh)
        missing = [m.id for m in template if m.id and not (catalogue.get(m.id) and catalogue.get(m.id).string
                                                             and not catalogue.get(m.id).fuzzy)]
        for msgid in missing:
            print("untranslated:", msgid)
        return 1 if missing else 0
    cli.run(["pybabel", "-q", "update", "-i", str(pot), "-d", str(ROOT / "app" / "translations"), "-l", "en",
             "--no-fuzzy-matching"])
    cli.run(["pybabel", "-q", "compile", "-d", str(ROOT / "app" / "translations")])
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv))
