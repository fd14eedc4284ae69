"""CRM column names to fields, through alias tables (case, spaces and punctuation ignored).

A new CRM's column name is one more string in a table rather than another ``if``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_OWNER_EMAIL = (
    "rep_email",
    "owner email",
    "lead owner email",
    "opportunity owner email",
    "contact owner email",
    "deal owner email",
    "hubspot owner email",
)
_CAMPAIGN = (
    "campaign",
    "campaign name",
    "primary campaign source",
    "first campaign",
    "original campaign",
    "latest campaign",
    "utm campaign",
)
_SOURCE = ("source", "lead source", "original source", "original source type", "latest source")
_SEGMENT = ("segment", "market segment", "customer segment", "lead segment")

REP_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "user email", "email address", "rep email"),
    "name": ("name", "full name", "rep name"),
    "first_name": ("first name",),
    "last_name": ("last name",),
    "team": ("team", "sales team", "team name", "role", "user role"),
    "manager": ("manager_email", "manager email", "manager", "manager name", "reports to"),
    "language": ("language", "locale", "language locale key"),
    "aliases": ("aliases", "alias emails", "alias addresses", "other emails", "additional emails"),
    "crm_id": ("user id", "crm_id", "record id", "owner id", "id"),
    "active": ("active", "is active"),
}

LEAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": ("id", "lead id", "record id", "contact id", "crm_id"),
    "name": ("name", "full name", "lead name", "contact name"),
    "first_name": ("first name",),
    "last_name": ("last name",),
    "email": ("email", "email address"),
    "title": ("title", "job title"),
    "company": ("company", "company name", "account name", "associated company"),
    "campaign": _CAMPAIGN,
    "source": _SOURCE,
    "segment": _SEGMENT,
    "rep_email": _OWNER_EMAIL,
    "rep": ("rep", "owner", "lead owner", "contact owner", "hubspot owner", "owner name"),
    "assigned_at": (
        "assigned_at",
        "assigned date",
        "owner assigned date",
        "lead assigned date",
        "assignment date",
        "created date",
        "create date",
        "created at",
    ),
}

DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": ("id", "opportunity id", "deal id", "record id", "crm_id"),
    "name": ("name", "opportunity name", "deal name"),
    "company": ("company", "account name", "company name", "associated company", "account"),
    "amount": ("amount", "deal amount", "opportunity amount", "amount in company currency"),
    "currency": ("currency", "currency code", "opportunity currency", "deal currency code"),
    "stage": ("stage", "deal stage", "opportunity stage", "stage name"),
    "close_date": ("close_date", "close date", "closed date"),
    "rep_email": _OWNER_EMAIL,
    "rep": ("rep", "owner", "opportunity owner", "deal owner", "hubspot owner", "owner name"),
    "lead_id": (
        "lead_id",
        "lead id",
        "converted lead id",
        "converted from lead id",
        "associated contact ids",
        "associated contact id",
        "contact id",
    ),
    "campaign": _CAMPAIGN,
    "source": _SOURCE,
    "segment": _SEGMENT,
}

COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "reps": REP_COLUMNS,
    "leads": LEAD_COLUMNS,
    "deals": DEAL_COLUMNS,
}
KEY_FIELD = {"reps": "email", "leads": "crm_id", "deals": "crm_id"}


def normalise_header(header: str) -> str:
    """'Lead Owner', 'lead_owner' and 'LEAD-OWNER:' all become 'leadowner'."""
    return re.sub(r"[^0-9a-z]", "", header.casefold())


def map_columns(headers: Iterable[str], kind: str) -> dict[str, list[str]]:
    """field -> the file's headers that feed it, in alias priority order."""
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    out: dict[str, list[str]] = {}
    for name, aliases in COLUMNS[kind].items():
        found = [by_norm[n] for n in dict.fromkeys(normalise_header(a) for a in aliases) if n in by_norm]
        if found:
            out[name] = found
    return out


class MappedRow:
    """One CSV row seen through the column map."""

    def __init__(self, values: Mapping[str, str], columns: Mapping[str, list[str]]) -> None:
        self._values = values
        self._columns = columns

    def has(self, name: str) -> bool:
        return name in self._columns

    def get(self, name: str) -> str:
        for header in self._columns.get(name, ()):
            value = self._values.get(header, "").strip()
            if value:
                return value
        return ""

    def opt(self, name: str) -> str | None:
        return self.get(name) or None
