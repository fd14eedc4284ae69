"""Upserting reps, leads and deals from rows in the caller's session (no commit: one
transaction per file, a dry run is a rollback)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import func, or_
from sqlmodel import Session, SQLModel, col, select

from feedback.importing.cells import (
    check_text,
    control_character,
    email_in,
    map_stage,
    name_key,
    normalise_email,
    parse_amount,
    parse_bool,
    parse_currency,
    parse_date,
    parse_datetime,
    parse_language,
    settings_timezone,
    shown,
)
from feedback.importing.columns import COLUMNS, KEY_FIELD, MappedRow, column_usage, map_columns
from feedback.importing.csvfile import CsvRow, CsvTable, read_csv_file
from feedback.importing.problems import (
    NO_OWNER,
    OWNER_AMBIGUOUS,
    OWNER_UNKNOWN,
    REP_INACTIVE,
    AliasTaken,
    Duplicate,
    FileRefused,
    ImportingError,
    ImportResult,
    InvalidValue,
    RepNotFound,
    RowError,
    Unaskable,
)
from feedback.runtime.settings import Settings
from feedback.storage.models import Deal, Lead, Rep, RepAlias, utcnow

Kind = Literal["reps", "leads", "deals"]
KINDS: tuple[Kind, ...] = ("reps", "leads", "deals")


class _RepIndex:
    """Every rep by address (primary and alias), by name and by CRM id, kept current as we go."""

    def __init__(self, session: Session) -> None:
        self.by_email: dict[str, Rep] = {}
        self.alias_owner: dict[str, int] = {}
        self.by_name: dict[str, list[Rep]] = {}
        self.by_crm_id: dict[str, Rep] = {}
        self.by_id: dict[int, Rep] = {}
        reps = session.exec(select(Rep)).all()
        for rep in reps:
            self.add(rep)
        for alias in session.exec(select(RepAlias)).all():
            self.alias_owner[alias.email] = alias.rep_id
            if alias.rep_id in self.by_id:
                self.by_email.setdefault(alias.email, self.by_id[alias.rep_id])

    def add(self, rep: Rep) -> None:
        self.by_email[rep.email] = rep
        if rep.id is not None:
            self.by_id[rep.id] = rep
        if rep.name:
            bucket = self.by_name.setdefault(name_key(rep.name), [])
            if rep not in bucket:
                bucket.append(rep)
        if rep.crm_id:
            self.by_crm_id[rep.crm_id] = rep

    def lookup(self, value: str) -> list[Rep]:
        """The reps an owner cell can mean: by the address in it, else by full name (case,
        spacing and Unicode form ignored), else by CRM user id. Several = an ambiguous name."""
        address = email_in(value)
        if address is not None:
            rep = self.by_email.get(address)
            return [rep] if rep else []
        matches = self.by_name.get(name_key(value), [])
        if matches:
            return list(matches)
        rep = self.by_crm_id.get(value.strip())
        return [rep] if rep else []


@dataclass(frozen=True)
class _Owner:
    """What a row's owner columns resolved to; ``problem`` says why there is no rep."""

    rep: Rep | None
    problem: str | None = None  # NO_OWNER, OWNER_UNKNOWN or OWNER_AMBIGUOUS
    cell: str = ""


def list_reps(
    *, session: Session, team: str | None = None, include_inactive: bool = False
) -> list[dict[str, Any]]:
    """Reps by team and address, with their manager, language and alias addresses."""
    query = select(Rep).order_by(col(Rep.team), col(Rep.email))
    if team:
        query = query.where(Rep.team == team)
    if not include_inactive:
        query = query.where(col(Rep.active).is_(True))
    aliases: dict[int, list[str]] = {}
    for alias in session.exec(select(RepAlias).order_by(col(RepAlias.email))).all():
        aliases.setdefault(alias.rep_id, []).append(alias.email)
    return [
        {
            "email": r.email,
            "name": r.name,
            "team": r.team,
            "manager": r.manager_email,
            "language": r.language,
            "aliases": aliases.get(r.id or -1, []),
            "active": r.active,
        }
        for r in session.exec(query).all()
    ]


def find_rep(*, session: Session, email: str) -> Rep:
    """The rep with this primary or alias address."""
    address = check_text(email, "the address").strip().lower()
    rep = session.exec(select(Rep).where(Rep.email == address)).first()
    if rep is None:
        alias = session.exec(select(RepAlias).where(RepAlias.email == address)).first()
        rep = session.get(Rep, alias.rep_id) if alias else None
    if rep is None:
        raise RepNotFound(f"no rep with the address {email!r}")
    return rep


def upsert_rep(
    *,
    session: Session,
    email: str,
    name: str | None = None,
    team: str | None = None,
    manager_email: str | None = None,
    language: str | None = None,
) -> tuple[Rep, bool]:
    """Create the rep or update the fields given (None = leave as is); reactivates. -> (rep, created).

    Typed text is held to the import's rule: no control characters or line breaks in any field.
    """
    for what, value in (("the name", name), ("the team", team), ("the language", language)):
        if value is not None:
            check_text(value, what)
    address = normalise_email(email)
    if session.exec(select(RepAlias).where(RepAlias.email == address)).first():
        raise AliasTaken(f"{address} is already an alias address of another rep")
    rep = session.exec(select(Rep).where(Rep.email == address)).first()
    created = rep is None
    if rep is None:
        rep = Rep(email=address)
    values: dict[str, object] = {"active": True, "deactivated_at": None}
    if name is not None:
        values["name"] = name.strip()
    if team is not None:
        values["team"] = team.strip() or None
    if manager_email is not None:
        values["manager_email"] = normalise_email(manager_email) if manager_email.strip() else None
        if values["manager_email"] == address:
            raise InvalidValue("a rep cannot be their own manager: give the manager's address")
    if language is not None:
        values["language"] = parse_language(language)
    if _apply(rep, values) or created:
        session.add(rep)
        session.flush()
    return rep, created


def add_rep_alias(*, session: Session, email: str, alias: str) -> bool:
    """Let the rep also reply from ``alias``. -> False when it already was their alias."""
    rep = find_rep(session=session, email=email)
    address = normalise_email(alias)
    if address == rep.email:
        raise AliasTaken(f"{address} is the rep's own address")
    if session.exec(select(Rep).where(Rep.email == address)).first():
        raise AliasTaken(f"{address} is another rep's address")
    existing = session.exec(select(RepAlias).where(RepAlias.email == address)).first()
    if existing is not None:
        if existing.rep_id == rep.id:
            return False
        raise AliasTaken(f"{address} is already an alias of another rep")
    assert rep.id is not None
    session.add(RepAlias(rep_id=rep.id, email=address))
    session.flush()
    return True


def remove_rep_alias(*, session: Session, email: str, alias: str) -> bool:
    """Stop accepting replies from ``alias`` as the rep's. -> False when it was not their alias."""
    rep = find_rep(session=session, email=email)
    existing = session.exec(
        select(RepAlias).where(RepAlias.email == normalise_email(alias), RepAlias.rep_id == rep.id)
    ).first()
    if existing is None:
        return False
    session.delete(existing)
    session.flush()
    return True


def deactivate_rep(*, session: Session, email: str, now: datetime | None = None) -> bool:
    """Stop asking this rep (history stays). -> False when already inactive."""
    rep = find_rep(session=session, email=email)
    if not rep.active:
        return False
    rep.active = False
    rep.updated_at = utcnow()
    rep.deactivated_at = now or rep.updated_at
    session.add(rep)
    session.flush()
    return True


def import_reps(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
    deactivate_missing: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Upsert reps by email (lower-cased); aliases in the file are added, never removed.

    ``deactivate_missing``: the file is the whole team, so an active rep not in it (by address)
    left and is deactivated (not when any row was refused: fix the file first). Reps deactivated
    either way are listed in ``result.deactivated``; their open requests are moved by
    :mod:`feedback.services.handover` after the commit.
    """
    now = now or utcnow()
    table = _as_table(rows)
    result = ImportResult(kind="reps")
    columns = _checked_columns(table, "reps", result)
    index = _RepIndex(session)
    # managers may be named rather than addressed, and may appear later in the file
    file_names: dict[str, str] = {}
    for raw in table.rows:
        row = MappedRow(raw.values, columns)
        name = row.get("name") or " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
        if name and "@" in row.get("email"):
            file_names.setdefault(name_key(name), row.get("email").lower())

    seen: dict[str, list[int]] = {}
    for raw in table.rows:
        try:
            _check_row(raw, columns)
            row = MappedRow(raw.values, columns)
            seen.setdefault(row.get("email").lower(), []).append(raw.line)
            _import_rep_row(session, row, index, file_names, result, raw.line, now=now)
        except ImportingError as exc:
            result.errors.append(RowError(raw.line, str(exc)))
        if on_row:
            on_row()
    result.duplicates = _duplicates(seen)
    if deactivate_missing and table.rows and not result.errors:  # a half-read file removes no one
        listed = {e.strip() for e in seen}  # a row refused for another reason still lists its rep
        for rep in session.exec(select(Rep).where(col(Rep.active).is_(True))).all():
            if rep.email not in listed:
                rep.active, rep.deactivated_at, rep.updated_at = False, now, utcnow()
                session.add(rep)
                result.deactivated.append(rep.email)
        session.flush()
    return result


def _import_rep_row(
    session: Session,
    row: MappedRow,
    index: _RepIndex,
    file_names: Mapping[str, str],
    result: ImportResult,
    line: int,
    *,
    now: datetime,
) -> None:
    if not row.get("email"):
        raise InvalidValue("no email address")
    email = normalise_email(row.get("email"))
    if email in index.alias_owner:
        raise AliasTaken(f"{email} is already an alias address of another rep")
    values: dict[str, object] = {}
    if row.has("name") or row.has("first_name") or row.has("last_name"):
        name = row.get("name") or " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
        if name:
            values["name"] = name
    if row.has("team"):
        values["team"] = row.opt("team")
    if row.has("manager"):
        manager = row.get("manager")
        if not manager:
            values["manager_email"] = None
        elif "@" in manager:
            values["manager_email"] = normalise_email(manager)
        else:
            found = file_names.get(name_key(manager))
            if found is None:
                matches = index.by_name.get(name_key(manager), [])
                if len(matches) != 1:
                    raise InvalidValue(f"manager {manager!r} is not a known rep: give the manager's email")
                found = matches[0].email
            values["manager_email"] = found
        if values["manager_email"] == email:
            raise InvalidValue("a rep cannot be their own manager")
    if row.has("language") and row.get("language"):
        values["language"] = parse_language(row.get("language"))
    if row.has("crm_id") and row.get("crm_id"):
        values["crm_id"] = row.get("crm_id")
    if row.has("active") and row.get("active"):
        values["active"] = parse_bool(row.get("active"))

    aliases: list[str] = []
    for part in re.split(r"[;,\s]+", row.get("aliases")):
        if not part:
            continue
        alias = normalise_email(part)
        if alias == email or alias in aliases:
            continue
        owner = index.by_email.get(alias)
        if owner is not None and owner.email != email:
            raise AliasTaken(f"alias {alias} already belongs to {owner.email}")
        aliases.append(alias)

    rep = index.by_email.get(email)  # a primary address: aliases were refused above
    created = rep is None
    if rep is None:
        rep = Rep(email=email)
    was_active = rep.active
    changed = _apply(rep, values)
    if was_active and not rep.active and not created:
        rep.deactivated_at = now
        result.deactivated.append(email)
    elif rep.active:
        rep.deactivated_at = None
    if created or changed:
        session.add(rep)
        session.flush()
    assert rep.id is not None
    for alias in aliases:
        if index.alias_owner.get(alias) != rep.id:
            session.add(RepAlias(rep_id=rep.id, email=alias))
            index.alias_owner[alias] = rep.id
            index.by_email[alias] = rep
            changed = True
    index.add(rep)
    _count(result, created=created, changed=changed)


# --- leads -----------------------------------------------------------------------------------


def import_leads(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert leads by CRM id. The owner column may hold a rep's email or exact name."""
    settings = settings or Settings()
    tz = settings_timezone(settings)
    table = _as_table(rows)
    result = ImportResult(kind="leads")
    columns = _checked_columns(table, "leads", result)
    index = _RepIndex(session)
    existing = _existing(session, Lead, table, columns)

    def values_of(row: MappedRow, line: int) -> tuple[dict[str, object], _Owner]:
        values = _attribution(row)
        if row.has("name") or row.has("first_name") or row.has("last_name"):
            values["name"] = row.get("name") or " ".join(
                p for p in (row.get("first_name"), row.get("last_name")) if p
            )
        if row.has("email"):
            values["email"] = row.get("email").lower() or None
        for name in ("title", "company"):
            if row.has(name):
                values[name] = row.opt(name)
        owner = _owner(row, index)
        if owner.rep is not None:
            values["rep_id"] = owner.rep.id
        elif _has_owner_column(row):
            values["rep_id"] = None
        if row.has("assigned_at"):
            value = row.get("assigned_at")
            values["assigned_at"] = parse_datetime(value, tz=tz) if value else None
        return values, owner

    deals = {
        d.crm_id: d for d in _in_chunks(session, Deal, sorted(_cells(table, columns, "converted_deal_id")))
    }

    def link_converted_deal(lead: Lead, row: MappedRow, line: int) -> None:
        """Salesforce names the opportunity a lead became on the lead, not the lead on the
        opportunity: link that deal (imported before) to this lead, with its attribution."""
        wanted = row.get("converted_deal_id")
        if not wanted:
            return
        deal = deals.get(wanted)
        if deal is None:
            result.warnings.append(
                RowError(
                    line,
                    f"converted deal {shown(wanted)} not imported yet: "
                    "import the deals, then this file again",
                )
            )
            return
        if lead.id is None:
            session.flush()
        values: dict[str, object] = {"lead_id": lead.id}
        for name in ("campaign", "source", "segment", "company"):  # never the rep: the deal's owner says
            if getattr(deal, name) is None and getattr(lead, name) is not None:
                values[name] = getattr(lead, name)
        if _apply(deal, values):
            session.add(deal)

    _upsert_by_crm_id(
        session,
        table,
        columns,
        Lead,
        existing,
        result,
        values_of,
        index,
        on_row=on_row,
        after=link_converted_deal,
    )
    return result


# --- deals -----------------------------------------------------------------------------------


def import_deals(
    *,
    session: Session,
    rows: CsvTable | Iterable[Mapping[str, str]],
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Upsert deals by CRM id; won/lost from the stage, and attribution from the lead they came from.

    The lead (by its CRM id) gives the deal its campaign, source, segment and, failing an owner
    column, its rep, wherever the deal's own cell is empty, so the funnel runs lead -> won.
    """
    settings = settings or Settings()
    tz = settings_timezone(settings)
    table = _as_table(rows)
    result = ImportResult(kind="deals")
    columns = _checked_columns(table, "deals", result)
    index = _RepIndex(session)
    existing = _existing(session, Deal, table, columns)
    lead_ids = {
        part for cell in _cells(table, columns, "lead_id") for part in re.split(r"[;,\s]+", cell) if part
    }
    leads = {lead.crm_id: lead for lead in _in_chunks(session, Lead, sorted(lead_ids))}
    leads_by_name = _leads_by_name(session, table, columns)

    def values_of(row: MappedRow, line: int) -> tuple[dict[str, object], _Owner]:
        values = _attribution(row)
        for name in ("name", "company"):
            if row.has(name):
                values[name] = row.get(name) if name == "name" else row.opt(name)
        result_value = _deal_result(row, settings.crm_stages)
        if result_value is not None:
            values["result"] = result_value
        if row.has("stage") or row.has("status"):
            values["stage"] = row.opt("stage") or row.opt("status")
        if row.has("amount") or row.has("actual_amount"):
            amount, currency = parse_amount(row.get("amount"))
            actual, actual_currency = parse_amount(row.get("actual_amount"))
            # what a won deal brought rather than its estimate (Dynamics 365 keeps both)
            if actual and (result_value == "won" or amount is None):
                amount, currency = actual, actual_currency or currency
            values["amount"] = amount
            if currency and not row.get("currency"):
                values["currency"] = currency
        if row.get("currency"):
            values["currency"] = parse_currency(row.get("currency"))
        if row.has("close_date"):
            value = row.get("close_date")
            values["close_date"] = parse_date(value, tz=tz) if value else None
        owner = _owner(row, index)
        if owner.rep is not None:
            values["rep_id"] = owner.rep.id
        elif owner.problem != NO_OWNER:  # the CRM names an owner we cannot ask: never someone else
            values["rep_id"] = None

        lead: Lead | None = None
        if row.has("lead_id") or row.has("lead_name"):
            wanted = [p for p in re.split(r"[;,\s]+", row.get("lead_id")) if p]
            lead = next((leads[p] for p in wanted if p in leads), None)
            named = row.get("lead_name")
            by_name = leads_by_name.get(name_key(named), []) if named else []
            if lead is None and len(by_name) == 1:
                lead = by_name[0]
            values["lead_id"] = lead.id if lead else None
            if lead is None and (wanted or named):
                what = f"lead {', '.join(wanted)}" if wanted else f"lead {shown(named)}"
                why = f"matches {len(by_name)} leads" if len(by_name) > 1 else "not found"
                result.warnings.append(
                    RowError(line, f"{what} {why}: deal imported without its lead (import leads first)")
                )
        if lead is not None:
            for name in ("campaign", "source", "segment", "company"):
                if not values.get(name) and getattr(lead, name):
                    values[name] = getattr(lead, name)
            if owner.problem == NO_OWNER and lead.rep_id is not None:
                values["rep_id"] = lead.rep_id
        return values, owner

    _upsert_by_crm_id(session, table, columns, Deal, existing, result, values_of, index, on_row=on_row)
    return result


def _leads_by_name(
    session: Session, table: CsvTable, columns: Mapping[str, list[str]]
) -> dict[str, list[Lead]]:
    """Leads a deal names rather than identifies (Dynamics 365's ``Originating Lead`` holds the
    lead's name), keyed by :func:`name_key`; a name shared by two leads links neither."""
    names = _cells(table, columns, "lead_name")
    found: dict[str, list[Lead]] = {}
    spaced = names | {" ".join(n.split()) for n in names}
    listed = sorted(spaced | {n.lower() for n in spaced})
    for start in range(0, len(listed), 500):
        chunk = listed[start : start + 500]
        query = select(Lead).where(or_(col(Lead.name).in_(chunk), func.lower(Lead.name).in_(chunk)))
        for lead in session.exec(query).all():
            bucket = found.setdefault(name_key(lead.name), [])
            if lead not in bucket:
                bucket.append(lead)
    return found


_LOST_STATUSES = {"canceled", "cancelled", "outsold", "out sold", "out-sold"}


def _deal_result(row: MappedRow, stages: Mapping[str, str]) -> str | None:
    """won | lost | open from the status (Pipedrive, Dynamics 365), the won / closed flags
    (Salesforce) and the stage, the first that says won or lost; None without such columns.

    A status outranks the stage: Pipedrive keeps a won deal in its last pipeline stage.
    """
    if not any(row.has(n) for n in ("status", "won", "closed", "stage")):
        return None
    for status in row.all("status"):
        mapped = map_stage(status, stages)
        if mapped == "open" and name_key(status) in _LOST_STATUSES:
            mapped = "lost"
        if mapped != "open":
            return mapped
    won = parse_bool(row.get("won")) if row.get("won") else None
    closed = parse_bool(row.get("closed")) if row.get("closed") else None
    if won:
        return "won"
    stage = map_stage(row.get("stage"), stages)
    if stage != "open":
        return stage
    if closed and won is False:
        return "lost"
    return "open"


def _upsert_by_crm_id(
    session: Session,
    table: CsvTable,
    columns: Mapping[str, list[str]],
    model: type[_M],
    existing: dict[str, _M],
    result: ImportResult,
    values_of: Callable[[MappedRow, int], tuple[dict[str, object], _Owner]],
    index: _RepIndex,
    *,
    on_row: Callable[[], None] | None,
    after: Callable[[_M, MappedRow, int], None] | None = None,
) -> None:
    """The row loop leads and deals share: read each row's values, then create or update by CRM id.

    A row that cannot be read is reported with its line and skipped; the rest go on. A row that
    lands without a rep who can be asked is listed in ``result.unaskable``; an id seen twice in
    the file in ``result.duplicates`` (the later row's values stand, as a re-import's would).
    """
    noun = model.__tablename__
    seen: dict[str, list[int]] = {}
    for raw in table.rows:
        try:
            _check_row(raw, columns)
            row = MappedRow(raw.values, columns)
            crm_id = row.get("crm_id")
            if not crm_id:
                raise InvalidValue(f"no {noun} id")
            seen.setdefault(crm_id, []).append(raw.line)
            values, owner = values_of(row, raw.line)
            item = existing.get(crm_id)
            created = item is None
            if item is None:
                item = existing[crm_id] = model(crm_id=crm_id)
            changed = _apply(item, values)
            if created or changed:
                session.add(item)
            if after is not None:
                after(item, row, raw.line)
            _count(result, created=created, changed=changed)
            unaskable = _unaskable(item.rep_id, owner, index, raw.line)
            if unaskable is not None:
                result.unaskable.append(unaskable)
        except ImportingError as exc:
            result.errors.append(RowError(raw.line, str(exc)))
        if on_row:
            on_row()
    result.duplicates = _duplicates(seen)
    session.flush()


def _unaskable(rep_id: int | None, owner: _Owner, index: _RepIndex, line: int) -> Unaskable | None:
    """Why no request can be sent about this row's lead or deal, or None when one can."""
    if rep_id is None:
        return Unaskable(line, owner.problem or NO_OWNER, owner.cell)
    rep = index.by_id.get(rep_id)
    if rep is not None and not rep.active:
        return Unaskable(line, REP_INACTIVE, owner.cell or rep.email)
    return None


def _duplicates(seen: Mapping[str, list[int]]) -> list[Duplicate]:
    return [Duplicate(key, tuple(lines)) for key, lines in seen.items() if key and len(lines) > 1]


def _check_row(raw: CsvRow, columns: Mapping[str, list[str]]) -> None:
    """Refuse a row whose shape is wrong or whose imported cells hold control characters.

    Only the columns the import reads are checked: a multi-line description in a column we
    ignore is no reason to refuse a lead.
    """
    if raw.problem:
        raise InvalidValue(raw.problem)
    for header in dict.fromkeys(h for headers in columns.values() for h in headers):
        value = raw.values.get(header, "")
        found = control_character(value)
        if found is not None:
            raise InvalidValue(
                f"column {shown(header)} holds {shown(value)}, which contains {found}: control "
                "characters and line breaks are not allowed in imported fields; fix the cell and "
                "import again"
            )


# --- one entry point for the CLI and the demo ------------------------------------------------

_IMPORTERS: dict[str, Callable[..., ImportResult]] = {
    "reps": import_reps,
    "leads": import_leads,
    "deals": import_deals,
}


def import_file(
    *,
    session: Session,
    kind: str,
    path: Path,
    settings: Settings | None = None,
    on_row: Callable[[], None] | None = None,
) -> ImportResult:
    """Read ``path`` and import it as ``kind`` (reps | leads | deals); raises FileRefused."""
    if kind not in _IMPORTERS:
        raise ImportingError(f"unknown import kind {kind!r}: use one of {', '.join(KINDS)}")
    table = read_csv_file(path)
    return _IMPORTERS[kind](session=session, rows=table, settings=settings, on_row=on_row)


# --- helpers ---------------------------------------------------------------------------------


def _as_table(rows: CsvTable | Iterable[Mapping[str, str]]) -> CsvTable:
    """Accept read_csv's table or plain dicts (e.g. from csv.DictReader; lines counted from 2)."""
    if isinstance(rows, CsvTable):
        return rows
    listed = [CsvRow(line=i, values=dict(r)) for i, r in enumerate(rows, start=2)]
    headers = list(dict.fromkeys(h for r in listed for h in r.values))
    return CsvTable(headers=headers, rows=listed)


def _checked_columns(table: CsvTable, kind: str, result: ImportResult) -> dict[str, list[str]]:
    """The file's column map (refused without the kind's key column), noted in ``result``."""
    columns = map_columns(table.headers, kind)
    result.columns, result.ignored = column_usage(table.headers, columns)
    key = KEY_FIELD[kind]
    if key not in columns:
        accepted = ", ".join(f'"{a}"' for a in COLUMNS[kind][key][:4])
        shown = ", ".join(table.headers[:6]) + (" ..." if len(table.headers) > 6 else "")
        raise FileRefused(
            f"no recognisable {kind} header: need a column such as {accepted}; the first line has: {shown}"
        )
    return columns


_M = TypeVar("_M", Lead, Deal)


def _cells(table: CsvTable, columns: Mapping[str, list[str]], name: str) -> set[str]:
    """The distinct non-empty values of one field in the file, without control characters
    (those rows are refused; PostgreSQL cannot even look a NUL up)."""
    values = {MappedRow(r.values, columns).get(name) for r in table.rows} - {""}
    return {v for v in values if control_character(v) is None}


def _existing(
    session: Session, model: type[_M], table: CsvTable, columns: Mapping[str, list[str]]
) -> dict[str, _M]:
    ids = sorted(_cells(table, columns, "crm_id"))
    return {obj.crm_id: obj for obj in _in_chunks(session, model, ids)}


def _in_chunks(session: Session, model: type[_M], ids: Sequence[str]) -> list[_M]:
    found: list[_M] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.extend(session.exec(select(model).where(col(model.crm_id).in_(chunk))).all())
    return found


def _attribution(row: MappedRow) -> dict[str, object]:
    return {name: row.opt(name) for name in ("campaign", "source", "segment") if row.has(name)}


def _has_owner_column(row: MappedRow) -> bool:
    return any(row.has(n) for n in ("owner_email", "owner", "owner_first_name", "owner_last_name"))


def _owner(row: MappedRow, index: _RepIndex) -> _Owner:
    """The row's rep: every owner cell in priority order (emails, names, first + last name,
    CRM user ids), the first that means exactly one rep. Otherwise why not, with the cell."""
    split_name = " ".join(p for p in (row.get("owner_first_name"), row.get("owner_last_name")) if p)
    candidates = [*row.all("owner_email"), *row.all("owner"), *([split_name] if split_name else [])]
    if not candidates:
        return _Owner(None, NO_OWNER)
    first_problem: _Owner | None = None
    for value in candidates:
        matches = index.lookup(value)
        if len(matches) == 1:
            return _Owner(matches[0], cell=value)
        problem = _Owner(None, OWNER_AMBIGUOUS if matches else OWNER_UNKNOWN, value)
        first_problem = first_problem or problem
    assert first_problem is not None
    return first_problem


def _apply(obj: SQLModel, values: Mapping[str, object]) -> bool:
    """Set changed fields only, so re-importing the same file reports rows as unchanged."""
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed and hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
    return changed


def _count(result: ImportResult, *, created: bool, changed: bool) -> None:
    if created:
        result.created += 1
    elif changed:
        result.updated += 1
    else:
        result.unchanged += 1
