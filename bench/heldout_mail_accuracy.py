"""Reply-text exactness on realistic rep replies from mail clients the corpus does not cover.

    python bench/heldout_mail_accuracy.py [--set heldout_mail|heldout_mail_b] [--show-failures]

``bench/heldout_mail/`` holds 120 raw messages (``NNN.eml``) written by a separate helper session
that never saw the parser, its tests or any reply-parser fixture: reps answering the service's
requests from Gmail, Outlook, Apple Mail, Thunderbird, Yahoo, Proton, Samsung, Zoho, Spark, Notes
and other clients, in the clients' own locales, with ``labels.jsonl`` giving each file's client,
layout and ``expected_reply`` (the rep's own words: no quote, attribution, signature, sign-off or
client footer). Scored like the corpus: whitespace-collapsed exact match of ``reply_text``, per
client family and layout, with a similarity ratio beside it. Never tune the parser on these.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feedback.mail import parse_message

BENCH = Path(__file__).resolve().parent


def _norm(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _family(client: str) -> str:
    low = client.lower()
    for name in ("gmail", "outlook", "apple", "thunderbird", "yahoo", "samsung"):
        if name in low:
            return name
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="heldout_mail", choices=["heldout_mail", "heldout_mail_b"])
    ap.add_argument("--show-failures", action="store_true")
    args = ap.parse_args()
    here = BENCH / args.set
    lines = (here / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line]
    groups: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    for row in rows:
        parsed = parse_message((here / row["file"]).read_bytes())
        got, want = _norm(parsed.reply_text), _norm(row["expected_reply"])
        ok = got == want
        sim = difflib.SequenceMatcher(None, got, want).ratio() if (got or want) else 1.0
        for key in ("all", f"client={_family(row['client'])}", f"layout={row['layout']}"):
            groups[key].append((ok, sim))
        if args.show_failures and not ok:
            print(f"--- {row['id']} {row['client']} ({row['layout']})")
            print("    want:", want[:300])
            print("    got: ", got[:300])
    print(f"{args.set}: reply-text exact match on {len(rows)} realistic replies from unseen clients")
    print(f"{'group':<22}{'n':>5}{'exact %':>10}{'sim':>8}")
    for key in sorted(groups, key=lambda k: (k != "all", k)):
        vals = groups[key]
        exact = 100 * sum(ok for ok, _ in vals) / len(vals)
        sim = sum(s for _, s in vals) / len(vals)
        print(f"{key:<22}{len(vals):>5}{exact:>10.1f}{sim:>8.3f}")


if __name__ == "__main__":
    main()
