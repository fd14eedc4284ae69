"""Assemble the second held-out reply-parser set into ``bench/heldout_suites2/*.jsonl`` (run once).

    python bench/heldout_suites2/assemble.py DISCOURSE_GIT WEBRIDGE_GIT FIEDL_GIT

Each argument is a bare git directory of that project (``git --git-dir=... show HEAD:<file>``):
discourse/email_reply_trimmer, web-ridge/email-reply-parser, fiedl/extended_email_reply_parser.
Built after the first held-out set (``bench/heldout_suites/``) had been looked at, from projects
never used while building the parser, and scored once on the parser as it stood (see README.md).
Do not tune on them.

A case is a fixture the project's own tests read, with a gold reply:

* ``test``: the value the project's test asserts exactly (discourse's ``test/trimmed/*.txt``,
  web-ridge's ``expected`` strings and the base mail of its combination test), read from the
  repository; where that value keeps a sign-off or signature the rule drops ("Best regards,
  //Jef", "Thanks,\\nSome One"), the sign-off is cut by a spec below and the project's value is kept
  as ``suite_expected``;
* ``fixture``: the test asserts only fragments (fiedl's ``include``/``not_to include``), or its
  exact value keeps the quote itself (discourse keeps a bottom-posted quote), so the gold is
  written here from the fixture by the rule of this project's corpus (the sender's own words,
  without quote, attribution, signature, sign-off or client footer), before the parser was run
  on it.

A gold is a spec that names a piece of the fixture (so that no fixture text is retyped), see
``_gold``. A fixture whose text (whitespace collapsed) is already in a tuning suite
(``bench/suites/*.jsonl``), in the first held-out set or earlier in these suites is left out.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _fixtures as fx

OUT = Path(__file__).resolve().parent
EARLIER = (OUT.parent / "suites", OUT.parent / "heldout_suites")
T, F = "test", "fixture"


# discourse/email_reply_trimmer: test/test_email_reply_trimmer.rb asserts, for every
# test/emails/X.txt, ``EmailReplyTrimmer.trim(email) == test/trimmed/X.txt`` (both stripped).
# Every fixture is a case with the trimmed file as gold (``@suite``) except these, where the
# trimmed file keeps what the rule drops: a trailing sign-off (gold = the trimmed text without it,
# "test", the project's value kept as suite_expected), or the quote of a bottom-posted reply, or
# a forwarded message with no word of the sender's, or a reply that is only a sign-off ("fixture").
DISCOURSE: dict[str, tuple[str, str]] = {
    "email_headers_5": ("@before:Best regards,", T),
    "embedded_ception": ("@before:Thanks,", T),
    "embedded_email_2": ("@before:Best Regards", T),
    "embedded_email_13": ("@before:thanks", T),
    "embedded_email_14": ("@before:Thank you!", T),
    "embedded_email_15": ("@before:/ Greetings", T),
    "embedded_email_19": ("@before:—Ryan", T),
    "embedded_email_swedish": ("@before:Best regards", T),
    # the trimmed text keeps the quoted lines between or above the sender's own
    "embedded_email_7": ("@join:@lines:0:1 ++ @between:This is some text|C>", F),
    "embedded_email_16": ("@between:Yep, me too|--", F),
    "embedded_email_17": ("@join:@between:The intent|On 8 May ++ @between:People are intent|Cheers", F),
    "quote_and_text": ("@lines:2:3", F),
    "quote_only": ("", F),
    # only a forwarded message (its text is not the sender's), only a sign-off ("Gruß Discourse")
    "forwarded_message": ("", F),
    "embedded_email_german_3": ("", F),
}

# web-ridge/email-reply-parser (Go): email_reply_parser_test.go. The tests that parse a constant
# mail and compare with an ``expected`` string, and TestAllKindOfCombinations, which parses
# ``mail + "\n\n" + signature + "\n\n" + quoted`` and ``quoted + "\n\n" + mail + "\n\n" +
# signature + "\n\n"`` for every base mail x signature x quoted reply of dataset/ (2,028 texts)
# and expects the base mail, stripped. Taken: each quoted reply in both positions, the signature
# and base mail rotating (26 cases, each signature twice); base mails ``1.txt`` (empty) and
# ``formatting_and_quotes.txt`` (its expected text keeps ``>`` lines, which the rule drops) left out.
WEBRIDGE_TESTS = {
    "karenMail": T,
    "richardMail": T,
    "richardReverseMail": T,
    "quotedReplyMissingContent": T,
    "abishhekMail": T,
}
WEBRIDGE_BASES = ("0", "bullets", "bullets_bigger", "smiley")

# fiedl/extended_email_reply_parser (Ruby, German mail): spec/**/*_spec.rb assert ``include`` and
# ``not_to include`` of fragments only (email_multipart.eml: an exact ``eq``), so the gold is
# written from the fixture. email_de_1: an answer above and below a quoted mail, which its test
# keeps; the rule keeps the sender's lines only. ``.eml`` fixtures are read as the whole message.
FIEDL: list[tuple[str, str, str]] = [
    ("email_de_1.txt", "@join:@before:Am 12.06.2016 ++ @between:Nun schreibt|Herzliche Grüße", F),
    ("email_de_2.txt", "@before:Beste Grüße", F),
    ("email_de_3.txt", "@before:Grüßle - Thomas", F),
    ("email_de_4.txt", "@before:Grüßle - Thomas", F),
    ("email_de_5.txt", "@before:Beste Grüße", F),
    ("email_de_6.txt", "@before:Viele Grüße", F),
    ("email_de_7.eml", "@before:Mit kräftigem", F),
    ("email_de_8.eml", "@before:Viele Grü", F),
    ("email_de_9.eml", "@before:Viele Grüße", F),
    ("email_multipart.eml", "This is a multipart test, bro!", T),
    ("email_text.eml", "@whole", F),
]


def main(argv: list[str]) -> int:
    discourse, webridge, fiedl = argv
    seen: set[str] = set()
    for folder in EARLIER:
        for path in folder.glob("*.jsonl"):
            seen |= {fx.key(json.loads(x)["input"]) for x in path.read_text("utf-8").splitlines() if x}
    left_out: dict[str, int] = {}
    suites: dict[str, list[dict[str, Any]]] = {"discourse": [], "webridge": [], "fiedl": []}

    def add(suite: str, case_id: str, fmt: str, text: str, spec: str, gold: str, suite_value: str) -> None:
        if fx.key(text) in seen:
            left_out[suite] = left_out.get(suite, 0) + 1
            return
        seen.add(fx.key(text))
        cut_from = fx.eml_text(text) if fmt == "eml" else text
        row: dict[str, Any] = {
            "id": f"{suite}/{case_id}",
            "format": fmt,
            "input": text,
            "expected": fx.gold(spec, cut_from, suite_value),
            "gold": gold,
        }
        if spec != fx.SUITE and suite_value and fx.key(suite_value) != fx.key(row["expected"]):
            row["suite_expected"] = suite_value
        suites[suite].append(row)

    for name in fx.ls(discourse, "test/emails"):
        stem = name.removesuffix(".txt")
        spec, gold = DISCOURSE.get(stem, (fx.SUITE, T))
        trimmed = fx.show(discourse, f"test/trimmed/{name}").strip()
        add("discourse", stem, "text", fx.show(discourse, f"test/emails/{name}"), spec, gold, trimmed)

    go_test = fx.show(webridge, "email_reply_parser_test.go")
    consts = dict(re.findall(r"const (\w+) = `(.*?)`", go_test, flags=re.DOTALL))
    for const, gold in WEBRIDGE_TESTS.items():
        m = re.search(rf"Parse\({const}\)\s*\n\s*expected := \"([^\"]*)\"", go_test)
        assert m, const
        add("webridge", const, "text", consts[const], m.group(1), gold, m.group(1))
    data = "dataset"
    sigs = [fx.show(webridge, f"{data}/signatures/{n}") for n in fx.ls(webridge, f"{data}/signatures")]
    sig_names = fx.ls(webridge, f"{data}/signatures")
    for j, qname in enumerate(fx.ls(webridge, f"{data}/quoted_reply")):
        quoted = fx.show(webridge, f"{data}/quoted_reply/{qname}")
        for pos, where in enumerate(("quote_below", "quote_above")):
            k = 2 * j + pos
            base_name = WEBRIDGE_BASES[k % len(WEBRIDGE_BASES)]
            base = fx.show(webridge, f"{data}/basemail/{base_name}.txt")
            sig = sigs[k % len(sigs)]
            text = (
                base + "\n\n" + sig + "\n\n" + quoted
                if where == "quote_below"
                else quoted + "\n\n" + base + "\n\n" + sig + "\n\n"
            )
            case_id = f"{where}/{base_name}+{sig_names[k % len(sigs)].removesuffix('.txt')}+{qname[:-4]}"
            add("webridge", case_id, "text", text, base.strip(), T, base.strip())

    for name, spec, gold in FIEDL:
        text = fx.show(fiedl, f"spec/email_fixtures/{name}")
        add("fiedl", name.rsplit(".", 1)[0], "eml" if name.endswith(".eml") else "text", text, spec, gold, "")

    fx.write_suites(OUT, suites, left_out, "already in a suite")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
