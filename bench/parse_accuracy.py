"""Reply-parser accuracy on the labelled corpus (a measurement script, not a test).

    python bench/parse_accuracy.py [--corpus-dir DIR] [--show-failures] [--baselines] [--suites]
                                   [--heldout] [--heldout2] [--heldout3]

Builds the corpus into a temporary directory, parses every message with ``parse_message`` and
prints: reply-text exact match (CRLF normalised, whitespace collapsed; inline replies compared by
the rep's lines), mean difflib similarity, classification accuracy, and both broken down by
client and by layout. Replies are compared only where the gold classification is ``reply``.
``--suites`` also scores the test suites of talon, email_reply_parser, mail-parser-reply and
quotequail (``bench/suites/*.jsonl``, assembled from those projects' repositories; see its README),
per suite and overall, for this parser and, with ``--baselines``, beside the libraries.
``--heldout`` scores, separately, the suites of ``bench/heldout_suites/`` (willdurand, crisp,
zapier, edgetier, hellogustav): other projects' reply-parser tests never used while building the
parser (never-tuned figures; see its README). Cases whose gold the suite's own test asserts
exactly and those whose gold was written from the fixture are also shown apart.
``--heldout2`` scores the second held-out set, ``bench/heldout_suites2/`` (discourse's
email_reply_trimmer, web-ridge's Go parser, fiedl's German extension of GitHub's), built after the
first had been looked at (see its README), the same way. ``--heldout3`` scores the third,
``bench/heldout_suites3/`` (griddler, Phabricator, GitLab, edlio, a .NET port, mailstrip,
mail_extract), assembled after the second had been read.
"""

from __future__ import annotations

import argparse
import difflib
import email
import json
import re
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _corpus import build_corpus

from feedback.mail import parse_message

_WS = re.compile(r"\s+")


def normalise(text: str | None) -> str:
    """Compare form: CRLF undone, whitespace collapsed (the corpus README's rule)."""
    return _WS.sub(" ", (text or "").replace("\r\n", "\n")).strip()


def _pct(n: int, d: int) -> str:
    return f"{100.0 * n / d:5.1f}% ({n}/{d})" if d else "   n/a"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus-dir", default=None, help="directory with cases.jsonl and build_eml.py")
    ap.add_argument("--show-failures", action="store_true", help="print a diff for each miss")
    ap.add_argument(
        "--baselines", action="store_true", help="also score existing libraries on the same messages"
    )
    ap.add_argument("--suites", action="store_true", help="score the other projects' suites in bench/suites")
    for flag, (folder, _, title) in HELDOUT_SETS.items():
        ap.add_argument(f"--{flag}", action="store_true", help=f"score the {title} in bench/{folder}")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        labels = build_corpus(tmp, args.corpus_dir)
        raws = {row["id"]: (Path(tmp) / row["file"]).read_bytes() for row in labels}
    t0 = time.perf_counter()
    parsed = {row["id"]: parse_message(raws[row["id"]]) for row in labels}
    elapsed = time.perf_counter() - t0

    cls_ok = 0
    exact = 0
    sims: list[float] = []
    by: dict[str, dict[str, list[Any]]] = {"client": defaultdict(list), "layout": defaultdict(list)}
    failures: list[tuple[dict[str, Any], str, str]] = []
    for row in labels:
        p = parsed[row["id"]]
        gold_cls = row["gold"]["classification"]
        ok_cls = p.classification == gold_cls
        cls_ok += ok_cls
        if not ok_cls:
            failures.append((row, f"classification {gold_cls}", f"classification {p.classification}"))
        if gold_cls != "reply":
            for key in ("client", "layout"):
                by[key][row[key]].append((ok_cls, None, None))
            continue
        want, got = normalise(row["expected_reply"]), normalise(p.reply_text)
        hit = want == got
        sim = difflib.SequenceMatcher(None, want, got).ratio()
        exact += hit
        sims.append(sim)
        for key in ("client", "layout"):
            by[key][row[key]].append((ok_cls, hit, sim))
        if not hit:
            failures.append((row, row["expected_reply"], p.reply_text or ""))

    n_reply = len(sims)
    print(f"messages: {len(labels)}  replies: {n_reply}  parse time: {elapsed * 1000:.1f} ms total")
    print(f"reply text exact match : {_pct(exact, n_reply)}")
    print(f"mean similarity        : {sum(sims) / max(1, n_reply):.4f}")
    print(f"classification accuracy: {_pct(cls_ok, len(labels))}")
    for key in ("client", "layout"):
        print(f"\nby {key}:")
        print(f"  {key:<20} {'n':>4} {'exact':>16} {'similarity':>11} {'classif.':>16}")
        for name, rows in sorted(by[key].items()):
            replies = [r for r in rows if r[1] is not None]
            ex = sum(1 for r in replies if r[1])
            sim = sum(r[2] for r in replies) / len(replies) if replies else float("nan")
            print(
                f"  {name:<20} {len(rows):>4} {_pct(ex, len(replies)):>16} {sim:>11.3f} "
                f"{_pct(sum(1 for r in rows if r[0]), len(rows)):>16}"
            )
    if args.show_failures:
        for row, want, got in failures:
            print(f"\n--- {row['id']} ({row['client']}, {row['layout']}, {row['lang']})")
            for line in difflib.unified_diff(
                want.split("\n"), got.split("\n"), "expected", "got", lineterm=""
            ):
                print("   " + line)
    if args.baselines:
        print_baselines(labels, raws)
    if args.suites:
        print_suites(args.baselines, args.show_failures)
    for flag, (folder, names, title) in HELDOUT_SETS.items():
        if getattr(args, flag):
            print_suites(
                args.baselines,
                args.show_failures,
                directory=BENCH_DIR / folder,
                names=names,
                title=f"{title}, never used for tuning",
                by_gold=True,
            )
    return 0


def _stdlib_text(raw: bytes) -> str:
    """The body as a baseline library would get it: stdlib decoding, HTML flattened by inscriptis."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    text = str(body.get_content())
    if body.get_content_type() == "text/html":
        try:
            from inscriptis import get_text

            text = get_text(text)
        except ImportError:
            text = re.sub(r"<[^>]*>", " ", text)
    return text


def _baselines() -> dict[str, Callable[[str], str]]:
    """Reply extractors of existing libraries that import here (quote removal only)."""
    out: dict[str, Callable[[str], str]] = {}
    try:
        from email_reply_parser import EmailReplyParser

        out["email_reply_parser"] = EmailReplyParser.parse_reply
    except ImportError:
        pass
    try:
        from mailparser_reply import EmailReplyParser as MPR

        mpr = MPR(languages=["en", "de", "fr", "es"])
        out["mail-parser-reply"] = mpr.parse_reply
    except ImportError:
        pass
    try:
        import quotequail

        out["quotequail"] = lambda t: "\n".join(x for own, x in quotequail.quote(t) if own)
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from talon import quotations

        out["talon"] = quotations.extract_from_plain
    except Exception as exc:
        print(f"talon not scored: {type(exc).__name__}: {exc}")
    return out


def print_baselines(labels: list[dict[str, Any]], raws: dict[str, bytes]) -> None:
    """Exact match and "no quoted request left" rate of each library, beside the product's."""
    replies = [r for r in labels if r["gold"]["classification"] == "reply"]
    texts = {r["id"]: _stdlib_text(raws[r["id"]]) for r in replies}
    leak = re.compile(r"Revenue Operations\s*$|^>|Options ?:", re.MULTILINE)
    print("\nbaselines (stdlib decoding; no signature removal, so exact match is expected to be low):")
    print(f"  {'extractor':<20} {'exact':>16} {'similarity':>11} {'quote removed':>16}")
    rows: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("this parser", lambda r: parse_message(raws[r["id"]]).reply_text or "")
    ]

    def on_text(fn: Callable[[str], str]) -> Callable[[dict[str, Any]], str]:
        return lambda r: fn(texts[r["id"]])

    rows += [(name, on_text(fn)) for name, fn in _baselines().items()]
    for name, extract in rows:
        exact = clean = 0
        sims = 0.0
        for r in replies:
            try:
                got = extract(r) or ""
            except Exception:
                got = ""
            want = normalise(r["expected_reply"])
            exact += normalise(got) == want
            sims += difflib.SequenceMatcher(None, want, normalise(got)).ratio()
            clean += not leak.search(got)
        n = len(replies)
        print(f"  {name:<20} {_pct(exact, n):>16} {sims / n:>11.3f} {_pct(clean, n):>16}")


SUITES_DIR = Path(__file__).resolve().parent / "suites"
SUITES = ("talon", "email_reply_parser", "mail_parser_reply", "quotequail")
BENCH_DIR = Path(__file__).resolve().parent
# flag -> (folder under bench/, suites in the order printed, title)
HELDOUT_SETS = {
    "heldout": (
        "heldout_suites",
        ("willdurand", "crisp", "zapier", "edgetier", "hellogustav"),
        "held-out suites",
    ),
    "heldout2": ("heldout_suites2", ("discourse", "webridge", "fiedl"), "held-out suites 2"),
    "heldout3": (
        "heldout_suites3",
        ("griddler", "phabricator", "gitlab", "edlio", "dotnet", "mailstrip", "mail_extract"),
        "held-out suites 3",
    ),
}


def suite_message(row: dict[str, Any]) -> bytes:
    """A suite case as the raw message this parser reads (the libraries get the text itself); an
    ``eml`` case is a whole message already."""
    if row["format"] == "eml":
        return str(row["input"]).encode("utf-8")
    msg = EmailMessage()
    msg["From"] = "Sender <sender@example.com>"
    msg["To"] = "feedback@example.com"
    msg["Subject"] = "Re: test"
    msg.set_content(row["input"], subtype="html" if row["format"] == "html" else "plain", cte="base64")
    return msg.as_bytes()


def _library_input(row: dict[str, Any]) -> str:
    """What a library gets: the text, HTML flattened, a whole message decoded as in print_baselines."""
    if row["format"] == "eml":
        return _stdlib_text(str(row["input"]).encode("utf-8"))
    return _html_as_text(row["input"]) if row["format"] == "html" else str(row["input"])


def _html_as_text(html: str) -> str:
    try:
        from inscriptis import get_text

        return str(get_text(html))
    except ImportError:
        return re.sub(r"<[^>]*>", " ", html)


def print_suites(
    baselines: bool,
    show_failures: bool,
    *,
    directory: Path = SUITES_DIR,
    names: tuple[str, ...] = SUITES,
    title: str = "other projects' test suites",
    by_gold: bool = False,
) -> None:
    """Exact match and similarity per suite and overall, for this parser and the libraries."""
    suites = {
        name: [json.loads(x) for x in (directory / f"{name}.jsonl").read_text("utf-8").splitlines() if x]
        for name in names
    }
    if by_gold:  # gold the suite's test asserts, and gold written from the fixture, apart
        every = [r for name in names for r in suites[name]]
        for gold in ("test", "fixture"):
            suites[f"gold={gold}"] = [r for r in every if r.get("gold") == gold]
        names = (*names, "gold=test", "gold=fixture")
    extractors: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
        ("this parser", lambda r: parse_message(suite_message(r)).reply_text or "")
    ]
    if baselines:
        for name, fn in _baselines().items():
            extractors.append((name, lambda r, fn=fn: fn(_library_input(r))))
    print(f"\n{title} (exact match / mean similarity):")
    print(f"  {'extractor':<20}" + "".join(f" {n:>24}" for n in (*names, "overall")))
    misses: list[tuple[str, str, str]] = []
    for name, extract in extractors:
        cells = []
        tot = tot_sim = 0.0
        n_all = 0
        for suite in names:
            ex = 0
            sim = 0.0
            for r in suites[suite]:
                try:
                    got = extract(r) or ""
                except Exception:
                    got = ""
                want = normalise(r["expected"])
                hit = normalise(got) == want
                ex += hit
                sim += difflib.SequenceMatcher(None, want, normalise(got)).ratio()
                if not hit and name == "this parser" and not suite.startswith("gold="):
                    misses.append((r["id"], r["expected"], got))
            n = len(suites[suite])
            if not suite.startswith("gold="):  # the gold split counts each case again
                tot += ex
                tot_sim += sim
                n_all += n
            cells.append(f"{_pct(ex, n)} {sim / max(1, n):.3f}")
        cells.append(f"{_pct(int(tot), n_all)} {tot_sim / max(1, n_all):.3f}")
        print(f"  {name:<20}" + "".join(f" {c:>24}" for c in cells))
    if show_failures:
        for case_id, want, got in misses:
            print(f"\n--- {case_id}\n   expected: {want!r}\n   got:      {got!r}")


if __name__ == "__main__":
    sys.exit(main())
