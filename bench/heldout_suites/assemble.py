"""Assemble held-out reply-parser suites into ``bench/heldout_suites/*.jsonl`` (run once).

    python bench/heldout_suites/assemble.py WILLDURAND_GIT CRISP_GIT ZAPIER_GIT EDGETIER_GIT HELLOGUSTAV_GIT

Each argument is a bare git directory of that project (``git --git-dir=... show HEAD:<file>``).
These suites were never used while building the parser: they are kept for measuring what it
never saw (``bench/parse_accuracy.py --heldout``). Do not tune on them.

A case is a fixture the project's own tests read, with a gold reply:

* ``test``: the value the test asserts exactly (``assertEquals(COMMON_FIRST_FRAGMENT, ...)``,
  ``getVisibleText()``, ``parse_reply()``), copied from the test file (the shared
  ``COMMON_FIRST_FRAGMENT`` is read from it);
* ``fixture``: the test asserts only fragments ("``/^On Thursday/``", "contains Michael Scott"),
  so the gold is written here from the fixture by the rule of this project's corpus (the sender's
  own words, without quote, attribution, signature, sign-off or client footer), before the
  parser was run on it.

Where a test's exact value keeps a signature that the rule drops, the row keeps the suite's value
as ``suite_expected``. A fixture whose text (whitespace collapsed) is already in a tuning suite
(``bench/suites/*.jsonl``) or earlier in these suites is left out, so every case is new.
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
TUNED = OUT.parent / "suites"


COMMON = "COMMON"
T, F = "test", "fixture"

HELLOGUSTAV_DANKE = (
    "de/german1 de/german2 de/german3 de/german_footer_3 de/german1_multiline de/german2_multiline"
)
HELLOGUSTAV_HALLO = "de/german_footer_1 de/german_headers de/german_footer_4 de/german_get_outlook"
EDGETIER_POLISH = "email_polish_1 email_polish_2 email_polish_3 email_polish_4"
EDGETIER_DEVICE = (
    "sent_from_device_in_thread sent_from_device_in_thread_english "
    "sent_from_device_in_thread_hungarian sent_from_device_in_thread_dutch "
    "sent_from_device_in_thread_romanian"
)
# fixtures whose test asserts COMMON_FIRST_FRAGMENT as the first fragment
WILLDURAND_COMMON = (
    "email_7 email_8 email_23 email_9 email_10 email_11 email_12 email_13 email_14 email_22 "
    "email_15 email_16 email_17 email_18 email_norwegian_gmail "
)
CRISP_COMMON = (
    "email_7 email_8 email_9 email_10 email_11 email_12 email_13 email_14 email_15 email_16 "
    "email_17 email_18 email_22 email_23 email_24 email_25 email_26 email_portuguese "
    "email_german email_german_2 email_german_3 email_german_outlook email_norwegian_gmail "
    "email_finnish email_italian email_russian email_outlook_split_line_from "
    "email_gmail_split_line_from email_ios_outlook_fr email_ios_outlook email_msn "
    "email_fr_multiline email_french_2 email_en_multiline_2 email_original_message "
    "email_original_message_2 email_danish_dash_separator email_french_dash_separator "
    "email_tricky_5_mixed_languages email_tricky_10_special_chars_in_name "
    "email_tricky_12_no_space_after_header email_tricky_14_long_quote_header "
    "email_tricky_15_original_message_variations "
)

# willdurand/EmailReplyParser: tests/EmailReplyParser/Tests/Parser/EmailParserTest.php
WILLDURAND: list[tuple[str, str, str]] = [
    *[(f"{n}", T, COMMON) for n in WILLDURAND_COMMON.split()],
    (
        "email_23_1",
        T,
        "Fusce bibendum, quam hendrerit sagittis tempor, dui turpis tempus erat, pharetra sodales "
        "ante sem sit amet metus.\nNulla malesuada, orci non vulputate lobortis, massa felis pharetra "
        "ex, convallis consectetur ex libero eget ante.\nNam vel turpis posuere, rhoncus ligula in, "
        "venenatis orci. Duis interdum venenatis ex a rutrum.\n\nSomething wrote:\nDuis ut libero eu "
        "lectus consequat consequat ut vel lorem. Vestibulum convallis lectus urna,\net mollis ligula "
        "rutrum quis. Fusce sed odio id arcu varius aliquet nec nec nibh.",
    ),
    ("email_custom_quote_header", T, "Thank you!"),
    ("email_customer_quote_header_2", T, "Thank you very much."),
    (
        "email_customer_quote_header_3",
        T,
        "bonjour,\nje n'ai pas eu de retour sur ma précision..\nmerci d'avance",
    ),
    ("email_19", F, "On Thursday, I get proper rendering."),
    ("email_20", F, "On Thursday."),
    ("email_21", F, "@whole"),  # no quote: the whole text is the reply
    ("email_zimbra_free_fr", F, "@before:Michael Scott"),
    ("email_zimbra_free_en", F, "@before:Michael Scott"),
]
WILLDURAND_DATES = (
    "On Tue, 2011-03-01 at 18:02 +0530, Abhishek Kona wrote:",
    "2014-03-20 8:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:",
    "2014-03-20 20:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:",
    "2014-03-09 20:48 GMT+01:00 Rémi Dolan <do_not_reply@dolan.com>:",
    "Le 19 mars 2014 10:37, Cédric Lombardot <cedric.lombardot@gmail.com> a écrit :",
    "El 19/03/2014 11:34, Juan Pérez <juan.perez@mailcatch.com> escribió:",
    "El 19/03/2014 11:34, Juan Pérez <juan.perez@mailcatch.com> ha escrit:",
    "W dniu 7 stycznia 2015 15:24 użytkownik Paweł Brzoski <pbrzoski91@gmail.com> napisał:",
    "Le 19/03/2014 11:34, Georges du chemin a écrit :",
    "W dniu 2015-01-07 14:23, pbrzoski91@gmail.com pisze: ",
    "Den 08/06/2015 kl. 21.21 skrev Test user <test@example.com>:",
    "Am 25.06.2015 um 10:55 schrieb Test user:",
    "Test user <test@example.com> schrieb:",
    "在 2016年11月8日，下午2:23，Test user <test@example.com> 写道：",
    "2016. 11. 8. 오후 12:39 Test user <test@example.com> 작성:",
    "2016/11/08 14:26、Test user <test@example.com> のメッセージ:",
    "tir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com>:",
)
WILLDURAND_FROMS = (
    "From: foo@example.com <foo@example.com>",
    "De: foo@example.com <foo@example.com>",
    "Van: foo@example.com <foo@example.com>",
    "Da: foo@example.com <foo@example.com>",
)

# crisp-oss/email-reply-parser: test/test.js (a port of the above, with fixtures of its own)
CRISP: list[tuple[str, str, str]] = [
    *[(n, T, COMMON) for n in CRISP_COMMON.split()],
    (
        "email_sent_from",
        T,
        "Hi it can happen to any texts you type, as long as you type in between words or paragraphs.",
    ),
    ("email_emoji", T, "🎉"),  # the test's visible text keeps the "—" signature: suite_expected
    (
        "email_zoho",
        T,
        "What is the best way to clear a Riak bucket of all key, values after\nrunning a test?",
    ),
    ("email_with_regards", T, "Hi,\n\nI still have the same problem....\n\nCan you help?"),
    ("email_not_a_signature", F, "@before:Sincerely,"),
    ("email_not_a_signature_2", F, "@before:Thanks!"),
    ("email_reply_header", F, "@before:Stranger"),
    ("email_tricky_1_on_false_positive", F, "@whole"),
    ("email_tricky_2_url_with_wrote", F, "@before:Best regards,"),
    ("email_tricky_3_code_block", F, "@whole"),
    ("email_tricky_4_from_in_body", F, "@whole"),
    ("email_tricky_6_regards_in_sentence", F, "@whole"),
    ("email_tricky_7_multiple_dashes", F, "@whole"),
    ("email_tricky_8_sent_from_in_content", F, "@whole"),
    ("email_tricky_9_nested_quotes", F, "I agree with the points below."),
    ("email_tricky_11_double_signature", F, "Thanks for your help!"),
    ("email_tricky_13_timestamp_variations", F, "@whole"),
    ("email_tricky_16_unicode_signatures", F, "Thanks for the update!"),
    ("email_tricky_17_forward_header", F, "See the forwarded message below."),
    (
        "email_tricky_18_inline_reply",
        F,
        "I think option A is great.\nOption B has some drawbacks.\n"
        "Option C is not suitable for our use case.",
    ),
    (
        "email_tricky_19_quote_without_header",
        F,
        "I wanted to respond to your points:\nMy response to the quoted text above.\nAnd my final thoughts.",
    ),
    (
        "email_tricky_20_html_entities",
        F,
        "The data should be &gt; 100 and &lt; 200.\n\n"
        "We need to ensure that &amp; symbols are handled correctly.",
    ),
]

# zapier/email-reply-parser: test/test_email_reply_parser.py (exact parse_reply asserts)
ZAPIER: list[tuple[str, str, str]] = [
    ("email_gmail", T, "This is a test for inbox replying to a github message."),
    ("email_2_1", T, "Outlook with a reply"),
    ("email_2_2", T, "Outlook with a reply directly above line"),
    ("email_2_3", T, "Outlook with a reply above headers using unusual format"),
    ("email_headers_no_delimiter", T, "And another reply!"),
]


def _gold(spec: str, text: str, common: str) -> str:
    """The gold of a case: a literal, or a piece of the fixture named by a spec (so that no
    fixture text is retyped): ``@whole``, ``@before:LINE`` (up to the first line starting with
    LINE), ``@between:A|B`` (from the line starting with A up to the next starting with B),
    ``@lines:I:J`` (lines I to J-1)."""
    lines = text.replace("\r\n", "\n").split("\n")
    if spec == COMMON:
        return common
    if spec == "@whole":
        return text.strip()
    if spec.startswith("@before:"):
        marker = spec.split(":", 1)[1]
        cut = next(i for i, x in enumerate(lines) if x.strip().startswith(marker))
        return "\n".join(lines[:cut]).strip()
    if spec.startswith("@between:"):
        first, last = spec.split(":", 1)[1].split("|")
        start = next(i for i, x in enumerate(lines) if x.strip().startswith(first))
        end = next(i for i in range(start + 1, len(lines)) if lines[i].strip().startswith(last))
        return "\n".join(lines[start:end]).strip()
    if spec.startswith("@lines:"):
        i, j = (int(x) for x in spec.split(":")[1:3])
        return "\n".join(lines[i:j]).strip()
    return spec


# EdgeTier/email-reply-parser: test/test_email_reply_parser.py (a zapier fork with many languages;
# most tests assert ``endswith``/``startswith`` of ``cut_off_at_signature``: gold from the fixture,
# following what the test wants cut, without the sign-off by this project's rule)
EDGETIER: list[tuple[str, str, str]] = [
    *[(n, T, "Ten tekst powinien pojawić się w treści") for n in EDGETIER_POLISH.split()],
    ("email_with_two_headers", T, "This is the main content"),
    ("email_portuguese_1", T, "This is the main body"),
    ("email_portuguese_2", T, "Here is the actual email"),
    ("email_romanian_1", T, "This is the actual email"),
    ("email_german_2", T, "This is a german email"),
    ("email_arabic_3", T, "@lines:0:1"),
    ("email_arabic_2", T, "@lines:0:1"),
    ("email_french_accent_sent_on", T, "Bonjour, ca va bien!"),
    *[(n, T, "Yes that would be fine") for n in EDGETIER_DEVICE.split()],
    (
        "sent_from_device_in_thread_portuguese",
        T,
        "Yes o Would like the price ajustament of 26€ and i Will keep the boots",
    ),
    ("sent_from_device_in_thread_german", T, "@lines:0:1"),
    ("swiss_german_signoff_no_trailing_newline", T, "Könnten Sie bitte meine Einzahlung freigeben?"),
    ("email_one_line", T, "@whole"),
    ("email_signature", F, "@before:Kind regards,"),
    ("email_german", F, "@before:Mit freundlichen Grüßen,"),
    ("email_french", F, "@before:Bien à vous,"),
    ("email_portuguese", F, "@before:Cumprimentos"),
    ("email_iphone_french", F, "@before:Au revoir,"),
    ("email_iphone_portuguese", F, "@before:Adeus,"),
    ("email_iphone_polish", F, "@before:Do widzenia,"),
    ("email_iphone_finnish", F, "@before:Hyvästi,"),
    ("email_iphone_arabic", F, "@lines:0:1"),
    ("email_iphone_start", F, "@lines:2:5"),
    ("email_iphone_start_german", F, "@lines:2:5"),
    ("email_greek_1", F, "@before:Από τον Άδη"),
    ("email_malformed_thread_header", F, "@before:Le lun. 24 janv. 2023"),
    ("email_portuguese_3", F, "@before:Em 21 de mai. de 2024"),
    ("email_with_stars_signoff", F, "@before:All the best,"),
    ("email_with_quoted_text", F, "@before:Tony"),
    ("spanish_signoff", F, "@before:Salud"),
    ("email_with_header_warning", F, "Hi,\n\nI am testing some functionality here!"),
    ("george_best", F, "@before:All the best,"),
    ("dutch_beste_example", F, "@before:Timmy"),
    ("french_signoff", F, "@before:Le mar. 30 avr. 2024"),
    ("german_signoff", F, "@before:Mit freundlichen Grüßen"),
    ("german_signoff_2", F, "@before:Freundliche Grüße"),
    ("original_message_german", F, "@before:Mit freundlichen Grüßen"),
    ("original_message_german_2", F, "@before:Mit freundlichen Grüßen"),
    ("forwarded_message_french", F, "@before:Bonne fin de journée"),
    ("sincerely_message", F, "@before:Yours Sincerely,"),
    ("best_example", F, "@before:All the best,"),
    ("email_continue_after_signoff", F, "@before:Best wishes,"),
    ("email_no_signature", F, "@before:K"),
    ("swiss_german_signoff_with_quoted_thread", F, "@before:Freundliche Grüsse"),
    ("bet_at_home_bottom_posting", F, "@between:Guten Tag,|**. . ."),
    ("vielen_dank_mid_message", F, "@before:Beste Grüße"),
    ("bet_at_home_footer_separator", F, "@before:**. . ."),
]


# hellogustav/elixir_email_reply_parser: test/elixir_email_reply_parser_test.exs (German replies;
# its parse_reply asserts keep the name, "LG, Eva" and the contact block: suite_expected)
HELLOGUSTAV: list[tuple[str, str, str]] = [
    *[(n, T, "Danke, Adam\n\nMir geht es gut.") for n in HELLOGUSTAV_DANKE.split()],
    ("de/german_footer_2", T, "Danke, auch gut."),
    *[(n, T, "Hallo Adam\n\nGut, und dir?") for n in HELLOGUSTAV_HALLO.split()],
    ("get_outlook", T, "I am fine, thanks."),
]
_DANKE = "Danke, Adam\n\nMir geht es gut.\n\nEva"
_CARD = (
    "Hallo Adam\n\nGut, und dir?\n\nEva\n\nMag. Eva Musterfrau\nA-1000 Wien, Grüngasse 1\n"
    "Tel: +44-7700-900333"
)
SUITE_VALUE: dict[tuple[str, str], str] = {
    ("crisp", "email_emoji"): "🎉\n\n—\nJohn Doe\nCEO at Pandaland\n\n@pandaland",
    **{("hellogustav", n): _DANKE for n in HELLOGUSTAV_DANKE.split()},
    ("hellogustav", "de/german_footer_1"): _CARD,
    ("hellogustav", "de/german_headers"): _CARD,
    ("hellogustav", "de/german_footer_4"): "Hallo Adam\n\nGut, und dir?\n\nLG, Eva",
    ("hellogustav", "de/german_get_outlook"): "Hallo Adam\n\nGut, und dir?\n\nLG, Eva",
    ("hellogustav", "get_outlook"): "I am fine, thanks.\n\nJohn.",
}


def _common(source: str) -> str:
    m = re.search(r"COMMON_FIRST_FRAGMENT = '([^']+)'", source)
    assert m, "COMMON_FIRST_FRAGMENT not found"
    return m.group(1).replace("\r\n", "\n")


def main(argv: list[str]) -> int:
    willdurand, crisp, zapier, edgetier, hellogustav = argv
    seen = set()
    for path in TUNED.glob("*.jsonl"):
        seen |= {fx.key(json.loads(x)["input"]) for x in path.read_text("utf-8").splitlines() if x}
    left_out: dict[str, int] = {}

    def rows(
        suite: str,
        git: str,
        fixtures: str,
        common: str,
        manifest: list[tuple[str, str, str]],
        extra: list[tuple[str, str, str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        out = []
        cases = [(n, src, spec, fx.show(git, f"{fixtures}/{n}.txt")) for n, src, spec in manifest]
        for case_id, src, spec, text in [*cases, *(extra or [])]:
            if fx.key(text) in seen:
                left_out[suite] = left_out.get(suite, 0) + 1
                continue
            seen.add(fx.key(text))
            row: dict[str, Any] = {
                "id": f"{suite}/{case_id}",
                "format": "text",
                "input": text,
                "expected": _gold(spec, text, common),
                "gold": src,
            }
            suite_value = SUITE_VALUE.get((suite, case_id))
            if suite_value is not None:
                row["suite_expected"] = suite_value
            out.append(row)
        return out

    wd_test = fx.show(willdurand, "tests/EmailReplyParser/Tests/Parser/EmailParserTest.php")
    common = _common(wd_test)
    dates_fixture = fx.show(willdurand, "tests/Fixtures/email_with_date_headers.txt")
    froms_fixture = fx.show(willdurand, "tests/Fixtures/email_with_from_headers.txt")
    extra = [
        (f"email_with_date_headers/{i}", T, "Thank you very much.", dates_fixture.replace("[DATE]", d))
        for i, d in enumerate(WILLDURAND_DATES)
    ] + [
        (f"email_with_from_headers/{i}", T, "", froms_fixture.replace("[FROM]", f))
        for i, f in enumerate(WILLDURAND_FROMS)
    ]
    suites = {
        "willdurand": rows("willdurand", willdurand, "tests/Fixtures", common, WILLDURAND, extra),
        "crisp": rows("crisp", crisp, "test/fixtures", common, CRISP),
        "zapier": rows("zapier", zapier, "test/emails", common, ZAPIER),
        "edgetier": rows("edgetier", edgetier, "test/emails", common, EDGETIER),
        "hellogustav": rows("hellogustav", hellogustav, "test/emails", common, HELLOGUSTAV),
    }
    fx.write_suites(OUT, suites, left_out, "already in a suite")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
