"""CRM column names to fields, through alias tables (case, spaces and punctuation ignored).

The tables hold the headers that Salesforce (report exports and Data Loader API names),
HubSpot, Pipedrive (``Entity - Field``) and Dynamics 365 (Excel export, ``(Do Not Modify)``
id columns) write for every field the product stores. Because headers are compared with
everything but letters and digits removed, ``Deal - Owner``, ``Deal owner`` and ``DEAL_OWNER``
are one alias, and so are ``Opportunity Owner: Email`` and ``Opportunity Owner Email``.
A new CRM's column name is one more string in a table rather than another ``if``.

Within a field the order is the priority: the first non-empty cell wins (an owner's email before
their name, an actual close date before an estimated one).
"""

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
    "person owner email",
)
_OWNER_FIRST = ("owner first name", "lead owner first name", "opportunity owner first name")
_OWNER_LAST = ("owner last name", "lead owner last name", "opportunity owner last name")
_CAMPAIGN = (
    "campaign",
    "campaign name",
    "primary campaign source",  # Salesforce
    "source campaign",  # Dynamics 365
    "first campaign",
    "original campaign",
    "latest campaign",
    "first touch converting campaign",  # HubSpot
    "last touch converting campaign",
    "utm campaign",
)
_SOURCE = (
    "source",
    "lead source",  # Salesforce, Dynamics 365, Pipedrive "Lead - Source"
    "original source",  # HubSpot
    "original source type",
    "latest source",
    "source channel",  # Pipedrive
    "lead source channel",
    "deal source channel",
    "person source channel",
    "source origin",
    "lead source origin",
    "deal source origin",
)
_SEGMENT = ("segment", "market segment", "customer segment", "lead segment", "industry segment")

REP_COLUMNS: dict[str, tuple[str, ...]] = {
    "email": (
        "email",
        "user email",
        "email address",
        "rep email",
        "primary email",  # Dynamics 365 users
        "internal email address",  # Dataverse internalemailaddress
        "work email",
    ),
    "name": ("name", "full name", "rep name", "display name"),
    "first_name": ("first name", "given name"),
    "last_name": ("last name", "surname", "family name"),
    "team": (
        "team",
        "sales team",
        "team name",
        "primary team",  # HubSpot users
        "teams",
        "assigned teams",
        "role",  # Salesforce users
        "user role",
        "business unit",  # Dynamics 365 users
    ),
    "manager": (
        "manager_email",
        "manager email",
        "manager",
        "manager name",
        "manager full name",  # Salesforce "Manager: Full Name"
        "reports to",
    ),
    "language": ("language", "locale", "language locale key", "ui language"),
    "aliases": ("aliases", "alias emails", "alias addresses", "other emails", "additional emails"),
    "crm_id": (
        "user id",
        "crm_id",
        "record id",
        "owner id",
        "id",
        "(do not modify) user",  # Dynamics 365
        "system user id",
    ),
    "active": ("active", "is active"),
}

LEAD_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": (
        "id",
        "lead id",  # Salesforce, Pipedrive "Lead - ID"
        "record id",  # HubSpot
        "contact id",
        "(do not modify) lead",  # Dynamics 365
        "(do not modify) contact",
        "person id",  # Pipedrive "Person - ID"
        "crm_id",
    ),
    "name": ("name", "full name", "lead name", "contact name", "person name", "lead title"),
    "first_name": ("first name", "person first name"),
    "last_name": ("last name", "person last name"),
    "email": (
        "email",
        "email address",
        "person email",  # Pipedrive
        "person email work",
        "person email other",
        "person email home",
    ),
    "title": ("title", "job title", "person job title"),
    "company": (
        "company",
        "company name",
        "company / account",  # Salesforce lead reports
        "account name",
        "account",
        "associated company",  # HubSpot
        "organization",
        "organization name",  # Pipedrive
        "person organization",
        "lead organization",
    ),
    "campaign": _CAMPAIGN,
    "source": _SOURCE,
    "segment": _SEGMENT,
    "owner_email": _OWNER_EMAIL,
    "owner": (
        "rep",
        "owner",  # Dynamics 365
        "lead owner",  # Salesforce, Pipedrive "Lead - Owner"
        "contact owner",  # HubSpot
        "hubspot owner",
        "person owner",  # Pipedrive
        "owner name",
        "owner full name",  # Salesforce
        "lead owner full name",  # Salesforce "Lead Owner: Full Name"
        "contact owner full name",
        "owner id",
        "lead owner id",
        "hubspot owner id",
    ),
    "owner_first_name": _OWNER_FIRST,
    "owner_last_name": _OWNER_LAST,
    # Salesforce records the conversion on the lead: the deal it became
    "converted_deal_id": ("converted opportunity id", "converted opportunity: opportunity id"),
    "assigned_at": (
        "assigned_at",
        "assigned date",
        "owner assigned date",  # HubSpot
        "lead assigned date",
        "assignment date",
        "created date",  # Salesforce
        "create date",  # HubSpot
        "created on",  # Dynamics 365
        "lead - lead created on",  # Pipedrive
        "lead created on",
        "person - person created",
        "add time",
        "created at",
    ),
}

DEAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_id": (
        "id",
        "opportunity id",  # Salesforce
        "deal id",  # Pipedrive "Deal - ID"
        "record id",  # HubSpot
        "(do not modify) opportunity",  # Dynamics 365
        "crm_id",
    ),
    "name": ("name", "opportunity name", "deal name", "deal title", "topic", "title"),
    "company": (
        "company",
        "account name",
        "company name",
        "associated company",
        "account",
        "account name: account name",
        "potential customer",  # Dynamics 365
        "organization",
        "deal organization",  # Pipedrive
        "organization name",
        "customer",
    ),
    "amount": (
        "amount",
        "deal amount",
        "opportunity amount",
        "amount in company currency",
        "value",
        "deal value",  # Pipedrive
        "est revenue",  # Dynamics 365 "Est. Revenue"
        "estimated revenue",
        "estimated value",
        "expected revenue",
    ),
    "actual_amount": ("actual revenue", "actual value"),
    "currency": (
        "currency",
        "currency code",
        "currency iso code",
        "opportunity currency",
        "amount currency",
        "deal currency",
        "deal currency code",
        "currency of value",
        "deal currency of value",  # Pipedrive
        "transaction currency",
    ),
    "stage": (
        "stage",
        "deal stage",
        "opportunity stage",
        "stage name",
        "sales stage",  # Dynamics 365
        "pipeline phase",
    ),
    "status": ("status", "deal status", "opportunity status", "status reason"),
    "won": ("won", "is won", "is closed won"),
    "closed": ("closed", "is closed"),
    "close_date": (
        "close_date",
        "close date",
        "closed date",
        "actual close date",
        "deal closed on",
        "deal - deal closed on",  # Pipedrive
        "won time",
        "deal won time",
        "lost time",
        "deal lost time",
        "expected close date",
        "deal expected close date",
        "est close date",  # Dynamics 365 "Est. Close Date"
        "estimated close date",
        "closing date",
    ),
    "owner_email": _OWNER_EMAIL,
    "owner": (
        "rep",
        "owner",
        "opportunity owner",  # Salesforce
        "deal owner",  # HubSpot, Pipedrive "Deal - Owner"
        "hubspot owner",
        "owner name",
        "owner full name",
        "opportunity owner full name",  # Salesforce "Opportunity Owner: Full Name"
        "deal owner full name",
        "owner id",
        "opportunity owner id",
        "deal owner id",
        "hubspot owner id",
    ),
    "owner_first_name": _OWNER_FIRST,
    "owner_last_name": _OWNER_LAST,
    "lead_id": (
        "lead_id",
        "lead id",
        "converted lead id",
        "converted from lead id",
        "originating lead id",
        "associated contact ids",  # HubSpot
        "associated contact id",
        "contact id",
        "deal contact person id",  # Pipedrive
        "contact person id",
        "person id",
    ),
    "lead_name": ("originating lead", "converted lead", "lead name"),  # Dynamics 365: a name
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

# what the import report calls each field
FIELD_LABELS: dict[str, str] = {
    "crm_id": "id",
    "first_name": "name (first)",
    "last_name": "name (last)",
    "owner_email": "owner (email)",
    "owner_first_name": "owner (first name)",
    "owner_last_name": "owner (last name)",
    "actual_amount": "amount (actual, for won deals)",
    "status": "won/lost (status)",
    "won": "won/lost (won flag)",
    "closed": "won/lost (closed flag)",
    "manager": "manager",
    "assigned_at": "assigned at",
    "close_date": "close date",
    "lead_id": "lead",
    "lead_name": "lead (by name)",
    "converted_deal_id": "deal it became (links the deal)",
}


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " "))


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


def column_usage(
    headers: Iterable[str], columns: Mapping[str, list[str]]
) -> tuple[list[tuple[str, str]], list[str]]:
    """-> ([(header, field label)] for the columns read, [headers ignored]), both in file order."""
    field_of = {h: name for name, hs in columns.items() for h in hs}
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    for header in headers:
        if header in field_of:
            used.append((header, field_label(field_of[header])))
        elif header.strip():
            ignored.append(header)
    return used, ignored


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

    def all(self, name: str) -> list[str]:
        """Every non-empty cell feeding ``name``, in priority order."""
        cells = (self._values.get(h, "").strip() for h in self._columns.get(name, ()))
        return [c for c in cells if c]

    def opt(self, name: str) -> str | None:
        return self.get(name) or None
