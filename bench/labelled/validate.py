"""Validate a writer's JSONL file: python3 validate.py FILE.jsonl"""

import json
import sys
from collections import Counter

TAX = {
    "disposition": {
        "accepted": ["meeting_booked", "opportunity_created", "in_progress"],
        "rejected": [
            "not_a_fit",
            "no_budget",
            "no_need",
            "bad_data",
            "wrong_contact",
            "not_a_buyer",
            "existing_customer",
            "duplicate",
        ],
        "recycled": ["bad_timing", "unresponsive", "early_research"],
    },
    "winloss": {
        "won": ["product_fit", "price_value", "relationship", "integration", "support", "time_to_value"],
        "lost": [
            "price",
            "missing_feature",
            "competitor",
            "no_budget",
            "champion_left",
            "security_compliance",
        ],
        "no_decision": ["status_quo", "timing", "budget_frozen", "went_dark"],
    },
}
COMPETITORS = {"Contoso Suite", "Fabrikam Analytics", "Tailspin CRM", "Wingtip Data", "Litware Cloud"}


def main(path: str) -> int:
    errors = []
    ids = Counter()
    stats = Counter()
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: not JSON: {e}")
            continue
        for f in ("id", "writer", "kind", "lang", "situation", "persona", "reply_text", "gold"):
            if f not in r:
                errors.append(f"line {n}: missing {f}")
        if "gold" not in r or "kind" not in r:
            continue
        ids[r["id"]] += 1
        kind, g = r["kind"], r["gold"]
        if kind not in TAX:
            errors.append(f"line {n}: kind {kind!r}")
            continue
        if r.get("lang") not in ("en", "de", "fr", "es"):
            errors.append(f"line {n}: lang {r.get('lang')!r}")
        if not str(r.get("reply_text", "")).strip():
            errors.append(f"line {n}: empty reply_text")
        if g.get("classification") != "reply":
            errors.append(f"line {n}: classification must be 'reply'")
        out, reasons = g.get("outcome"), g.get("reasons")
        if not isinstance(reasons, list):
            errors.append(f"line {n}: reasons must be a list")
            continue
        if set(g) != {"classification", "outcome", "reasons", "competitor", "needs_review"}:
            errors.append(f"line {n}: gold keys {sorted(g)}")
        if out is not None and out not in TAX[kind]:
            errors.append(f"line {n}: outcome {out!r} not of kind {kind}")
        allcodes = {c for cs in TAX[kind].values() for c in cs}
        for c in reasons:
            if c not in allcodes:
                errors.append(f"line {n}: reason {c!r} not of kind {kind}")
        if len(set(reasons)) != len(reasons):
            errors.append(f"line {n}: repeated reason")
        if out is None and reasons:
            errors.append(f"line {n}: reasons without outcome (a stated reason implies its outcome)")
        if out is not None and not g.get("needs_review"):
            for c in reasons:
                if c not in TAX[kind][out]:
                    errors.append(
                        f"line {n}: reason {c} does not belong to {out} (only allowed with needs_review)"
                    )
        if not isinstance(g.get("needs_review"), bool):
            errors.append(f"line {n}: needs_review must be true/false")
        comp = g.get("competitor")
        if comp is not None and not isinstance(comp, str):
            errors.append(f"line {n}: competitor must be a string or null")
        stats[(kind, r.get("lang"))] += 1
        stats["review"] += bool(g.get("needs_review"))
        stats["null_outcome"] += out is None
    for i, c in ids.items():
        if c > 1:
            errors.append(f"id {i} used {c} times")
    for e in errors[:50]:
        print(e)
    print(
        f"{sum(ids.values())} replies, {len(errors)} errors; "
        + ", ".join(f"{k}={v}" for k, v in sorted(stats.items(), key=str))
    )
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
