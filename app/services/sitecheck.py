"""Does a host site fit the truck? Warnings for staff, never a silent rejection."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

POWER_TYPES = ("schuko", "cee16", "cee32", "none")
SURFACES = ("paved", "unpaved", "unknown")
PERMITS = ("no", "yes", "unknown")

MESSAGES = {
    "space_length": _l("Die freie Fläche ist kürzer, als der Truck braucht."),
    "space_width": _l("Die freie Fläche ist schmaler, als der Truck braucht."),
    "clearance": _l("Die Durchfahrtshöhe ist niedriger, als der Truck braucht."),
    "surface": _l("Der Untergrund ist nicht sicher befestigt und tragfähig."),
    "power_type": _l("Der Stromanschluss passt nicht (der Truck braucht einen CEE-Anschluss)."),
    "power_distance": _l("Die Steckdose ist weiter entfernt, als das Kabel des Trucks reicht."),
    "permit": _l("Für den Standplatz ist eine Sondernutzungserlaubnis nötig oder noch unklar."),
}


def check(site: dict, truck: dict) -> list[str]:
    """Codes of every requirement of the truck that the site does not meet."""
    codes = []
    if site["space_length_m"] < truck["length_m"]:
        codes.append("space_length")
    if site["space_width_m"] < truck["width_m"]:
        codes.append("space_width")
    if site.get("clearance_m") is not None and site["clearance_m"] < truck["clearance_m"]:
        codes.append("clearance")
    if site["surface"] != "paved":
        codes.append("surface")
    if site["power_type"] not in truck["power_types"]:
        codes.append("power_type")
    elif site.get("power_distance_m") is None or site["power_distance_m"] > truck["max_power_distance_m"]:
        codes.append("power_distance")
    if site["permit"] != "no":
        codes.append("permit")
    return codes


def messages(codes: str | list[str]) -> list[str]:
    if isinstance(codes, str):
        codes = [c for c in codes.split(",") if c]
    return [str(MESSAGES[c]) for c in codes if c in MESSAGES]
