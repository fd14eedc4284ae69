"""Assemble the third held-out reply-parser set into ``bench/heldout_suites3/*.jsonl`` (run once).

    python bench/heldout_suites3/assemble.py GRIDDLER_GIT PHABRICATOR_GIT GITLAB_GIT EDLIO_GIT DOTNET_GIT \\
        MAILSTRIP_GIT MAIL_EXTRACT_GIT

Each argument is a bare git directory of that project (``git --git-dir=... show HEAD:<file>``):
thoughtbot/griddler, phacility/phabricator, gitlabhq/gitlabhq (any mirror whose HEAD is the commit
named in README.md), edlio/EmailReplyParser (the mirror of its fork Pelumi/EmailReplyParser, whose
HEAD is edlio's last commit), huan086/EmailReplyParser, kvannotten/mailstrip, sosedoff/mail_extract.
Built after the second held-out set (``bench/heldout_suites2/``), from projects never used while
building the parser, with every gold written before anything was run on the cases. Do not tune on
them.

A case is a fixture or test string the project's own tests read, with a gold reply:

* ``test``: the value the project's test asserts exactly (griddler's ``eq``, Phabricator's
  ``assertEqual``, GitLab's ``eq``, the Java and C# ``assertEquals``/``Assert.Equal``), read from the
  test source; where that value keeps a sign-off or signature the rule drops, the sign-off is cut by
  a spec below and the project's value is kept as ``suite_expected``;
* ``fixture``: the project's value keeps what the rule drops other than a trailing sign-off (a
  quote above an inline answer, header lines above the answer, a message that is only a quote), or
  its test is disabled, so the gold is written here from the fixture by the rule of this project's
  corpus (the sender's own words, without quote, attribution, signature, sign-off or client
  footer; in an inline or bottom-posted answer, the sender's lines in order), before anything was
  run on it.

A gold is a spec that names a piece of the fixture (so that no fixture text is retyped), see
``_gold``. A fixture whose text (whitespace collapsed) is already in a tuning suite
(``bench/suites/``) or an earlier held-out set, or nearly so (difflib ratio >= 0.9 on the collapsed
text: ports copy fixtures with small edits), or already earlier in these suites, is left out.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _fixtures as fx

OUT = Path(__file__).resolve().parent
EARLIER = (OUT.parent / "suites", OUT.parent / "heldout_suites", OUT.parent / "heldout_suites2")
T, F = "test", "fixture"
NEAR = 0.9


# --- string literals of the test sources -------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "0": "\0"}


def _unescape(body: str) -> str:
    r"""A double-quoted Ruby/Java/C#/PHP-heredoc string body: ``\n``, ``\t``, ``\"``, ``\\``,
    ``\uXXXX`` and runs of ``\xHH`` (UTF-8 bytes, as Ruby reads them in a UTF-8 source)."""
    out: list[str] = []
    raw = bytearray()
    i = 0
    while i < len(body):
        if body.startswith("\\x", i):
            raw.append(int(body[i + 2 : i + 4], 16))
            i += 4
            continue
        if raw:
            out.append(raw.decode("utf-8"))
            raw.clear()
        if body.startswith("\\u", i):
            out.append(chr(int(body[i + 2 : i + 6], 16)))
            i += 6
        elif body[i] == "\\" and i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            out.append(body[i])
            i += 1
    if raw:
        out.append(raw.decode("utf-8"))
    return "".join(out)


def _literals(code: str) -> str:
    """The value of a concatenation of double-quoted literals (``"a" + "b"``)."""
    return "".join(_unescape(m) for m in re.findall(r'"((?:[^"\\]|\\.)*)"', code))


def _dedent(lines: list[str]) -> list[str]:
    width = min((len(x) - len(x.lstrip(" ")) for x in lines if x.strip()), default=0)
    return [x[width:] for x in lines]


# --- thoughtbot/griddler (Ruby): spec/griddler/email_spec.rb, describe 'body formatting' --------
# Every ``it`` whose body is a plain-text mail (``body = <<-EOF`` heredoc or a literal) and whose
# expectation is ``expect(body_from_email(text: body)).to eq X``. The heredocs are written indented
# in the spec (``<<-EOF`` keeps that indentation; griddler strips each line): the input here is the
# heredoc as written with its common indentation removed, then Ruby's escapes applied (one case
# spells a line break as ``\n`` and a non-breaking space as ``\xC2\xA0``). Left out: the HTML-only
# bodies and the encoding checks (``"Hell\xF6."``), empty and nil bodies.
GRIDDLER: dict[str, tuple[str, str]] = {
    # a body that is only quoted lines: the test keeps it, the rule drops the quote
    "preserves blockquotes": ("", F),
}


def griddler_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    src = fx.show(git, "spec/griddler/email_spec.rb")
    block = src.split("describe Griddler::Email, 'body formatting' do", 1)[1]
    block = block.split("  def body_from_email")[0]
    cases = []
    for m in re.finditer(r"\n  it (['\"])(.*?)\1 do\n(.*?)\n  end\n", block, flags=re.DOTALL):
        name, code = m.group(2), m.group(3)
        call = r"expect\(body_from_email\(\{? ?text: body ?\}?(?:, charsets)?\)\)"
        expect = re.search(call + r"\.to eq (.*)", code)
        if not expect:
            continue
        heredoc = re.search(r"body = <<-EOF(?:\.strip_heredoc)?\n(.*?)\n\s*EOF\n", code, flags=re.DOTALL)
        if heredoc:
            text = _unescape("\n".join(_dedent(heredoc.group(1).split("\n"))) + "\n")
        else:
            literal = re.search(r'body = "((?:[^"\\]|\\.)*)"', code)
            assert literal, name
            text = _unescape(literal.group(1))
        value = expect.group(1).strip()
        suite_value = text if value == "body" else value[1:-1]
        spec, gold = GRIDDLER.get(name, (fx.SUITE, T))
        spelled = name.lower().replace("*", " star ").replace('"> ', " quoted ").replace(" > ", " quoted ")
        case_id = re.sub(r"[^a-z0-9]+", "_", spelled).strip("_")
        cases.append((case_id, text, spec, gold, suite_value))
    return cases


# --- phacility/phabricator (PHP): PhabricatorMetaMTAEmailBodyParserTestCase.php ------------------
# testQuotedTextStripping asserts ``stripTextBody($body) == 'OKAY'`` for every heredoc of
# getEmailBodies() (``{$trailing_space}`` is " ", ``{$emdash}`` is U+2014), and
# testFalsePositiveForOnWrote asserts its one body. Left out: the command-parsing tests (the same
# bodies with Phabricator's "!command" lines added above).
PHAB_TEST = "src/applications/metamta/parser/__tests__/PhabricatorMetaMTAEmailBodyParserTestCase.php"


def phabricator_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    src = fx.show(git, PHAB_TEST)
    bodies = src.split("private function getEmailBodies()", 1)[1]
    values = {"{$trailing_space}": " ", "{$emdash}": "\u2014"}
    cases = []
    for i, m in enumerate(re.finditer(r"<<<(EOE?MAIL)\n(.*?)\n\1\b", bodies, flags=re.DOTALL)):
        text = m.group(2)
        for name, value in values.items():
            text = text.replace(name, value)
        cases.append((f"quoted_text_stripping/{i}", _unescape(text), fx.SUITE, T, "OKAY"))
    false_positive = src.split("function testFalsePositiveForOnWrote()", 1)[1]
    body = re.search(r"<<<EOEMAIL\n(.*?)\nEOEMAIL;", false_positive, flags=re.DOTALL)
    expected = re.search(r"assertEqual\('([^']*)', \$stripped\)", false_positive)
    assert body and expected
    cases.append(("false_positive_for_on_wrote", body.group(1), fx.SUITE, T, expected.group(1)))
    return cases


# --- gitlabhq/gitlabhq (Ruby): spec/lib/gitlab/email/reply_parser_spec.rb ----------------------
# Every ``expect(test_parse_body(fixture_file("emails/X.eml"))).to eq(...)`` (a literal or a
# ``<<-BODY.strip_heredoc.chomp`` heredoc); the input is the whole .eml (format ``eml``). Five of
# these files begin with an empty line, which the Mail gem of the test skips and which would end
# the header of the message for any other reader: that line is dropped, nothing else.
# inline_reply: the test keeps the quote above the answer (GitLab's parser keeps an inline reply
# whole); the rule keeps the sender's lines under it.
GITLAB: dict[str, tuple[str, str]] = {
    "inline_reply": ("@from:The quick brown fox", F),
}


def gitlab_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    src = fx.show(git, "spec/lib/gitlab/email/reply_parser_spec.rb")
    pattern = (
        r'expect\(test_parse_body\(fixture_file\("emails/([\w.]+)\.eml"\)\)\)\s*\.to eq\('
        r'(?:"((?:[^"\\]|\\.)*)"\)|\s*<<-BODY\.strip_heredoc\.chomp\n(.*?)\n\s*BODY\n)'
    )
    cases = []
    for m in re.finditer(pattern, src, flags=re.DOTALL):
        name = m.group(1)
        if m.group(2) is not None:
            value = _unescape(m.group(2))
        else:
            value = "\n".join(_dedent(m.group(3).split("\n")))
        raw = fx.show(git, f"spec/fixtures/emails/{name}.eml").lstrip("\r\n")
        spec, gold = GITLAB.get(name, (fx.SUITE, T))
        cases.append((name, raw, spec, gold, value))
    return cases


# --- edlio/EmailReplyParser (Java): src/test/java/.../EmailParserTest.java, EmailReplyParserTest ---
# The fixtures of edlio's own (the others are GitHub's, already in a tuning suite) with the
# ``assertEquals("...", email.getVisibleText())`` / ``parseReply`` value of their test.
EDLIO_TESTS = ("EmailParserTest.java", "EmailReplyParserTest.java")
EDLIO: dict[str, tuple[str, str]] = {
    "email_abnormal_quote_header_1": (fx.SUITE, T),
    "email_abnormal_quote_header_2": (fx.SUITE, T),
    # the value keeps the sign-off and signature under the answer
    "email_abnormal_quote_header_3": ("@cut:Sincerely,", T),
    # the value keeps two header lines ("From: Homer Simpson", "To: Support") above the answer
    "email_abnormal_quote_header_4": ("@between:En|Date:", F),
    "email_abnormal_quote_header_5": (fx.SUITE, T),
    "email_abnormal_quote_header_long": (fx.SUITE, T),
    "email_dashes_between_words": (fx.SUITE, T),
    "email_em_dash": (fx.SUITE, T),
    "email_en_dash": (fx.SUITE, T),
    "email_unquoted_reply": (fx.SUITE, T),
}


def _asserted(tests: str, fixture_call: str, name: str) -> str:
    """The string literal the test method that reads fixture ``name`` asserts equal."""
    at = tests.index(f'{fixture_call}("{name}')
    method = tests[at : tests.find("}", at)]
    if "assertEquals(" in method or "Assert.Equal(" in method:
        pattern = r"(?:assertEquals|Assert\.Equal)\((.*?),\s*(?:email\.|EmailReplyParser\.)"
        m = re.search(pattern, method, re.DOTALL)
    else:  # EmailReplyParserTest: assertEquals("...", EmailReplyParser.parseReply(getFixture(...)))
        head = tests[tests.rfind("assertEquals(", 0, at) : at]
        m = re.search(r"assertEquals\((.*?),\s*EmailReplyParser\.", head, re.DOTALL)
    assert m, name
    return _literals(m.group(1))


def edlio_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    base = "src/test/java/com/edlio/emailreplyparser/"
    tests = "\n".join(fx.show(git, base + name) for name in EDLIO_TESTS)
    cases = []
    for name, (spec, gold) in EDLIO.items():
        text = fx.show(git, f"src/test/fixtures/{name}.txt")
        cases.append((name, text, spec, gold, _asserted(tests, "getFixture", name)))
    return cases


# --- huan086/EmailReplyParser (C#): src/EmailReplyParser.Tests/EmailParserTests.cs --------------
# The .NET port's fixtures that no other port has (added in 2020 with the Outlook/webmail/Yahoo
# notification replies of its contributors), with the ``Assert.Equal("...", GetVisibleText())`` of
# their test. yahoo: its test is commented out; the gold is written from the fixture.
DOTNET: dict[str, tuple[str, str]] = {
    "outlook": (fx.SUITE, T),
    "outlook_2": (fx.SUITE, T),
    "list_not_signature": (fx.SUITE, T),
    "webmail": (fx.SUITE, T),
    "yahoo": ("@lines:0:1", F),
}


def dotnet_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    tests = fx.show(git, "src/EmailReplyParser.Tests/EmailParserTests.cs")
    cases = []
    for name, (spec, gold) in DOTNET.items():
        text = fx.show(git, f"src/EmailReplyParser.Tests/resources/{name}.txt")
        value = "" if gold == F else _asserted(tests, "Get_email", name)  # "": no test runs
        cases.append((name, text, spec, gold, value))
    return cases


# --- kvannotten/mailstrip (Go, Thomson Reuters' port): mailstrip_test.go --------------------------
# The three fixtures of mailstrip's own (its other fixtures are GitHub's), with the
# ``emailStringChecker{equalsString("...")}`` of their test. forward: the test only checks that the
# forwarded mail stays visible (regexps); the sender's own words are the note above it.
MAILSTRIP: dict[str, tuple[str, str]] = {
    "forward": ("@before:---------- Forwarded message", F),
    "yahoo": (fx.SUITE, T),
    "gmail_alt_quoteheader": (fx.SUITE, T),
}


def mailstrip_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    tests = fx.show(git, "mailstrip_test.go")
    cases = []
    for name, (spec, gold) in MAILSTRIP.items():
        entry = tests[tests.index(f'"{name}",') :]
        entry = entry[: entry.index("\n\t},")]
        m = re.search(r'&emailStringChecker\{equalsString\("((?:[^"\\]|\\.)*)"\)\}', entry)
        value = _unescape(m.group(1)) if m else ""  # "": the test asserts no exact value
        cases.append((name, fx.show(git, f"fixtures/{name}.txt"), spec, gold, value))
    return cases


# --- sosedoff/mail_extract (Ruby): spec/parser_spec.rb -------------------------------------------
# Every ``body.should == '...'`` after parsing a fixture (``iphone_with_quotes`` with the option
# ``:only_head``, which keeps the part above the quote); its other two fixtures are GitHub's.


def mail_extract_cases(git: str) -> list[tuple[str, str, str, str, str]]:
    spec_rb = fx.show(git, "spec/parser_spec.rb")
    pattern = r"fixture\('([\w.]+)'\)[^\n]*\n\s*body\.should == (?:'([^']*)'|result_fixture\('([\w.]+)'\))"
    cases = []
    for m in re.finditer(pattern, spec_rb):
        name = m.group(1)
        value = m.group(2) if m.group(2) is not None else fx.show(git, f"spec/fixtures/result_{m.group(3)}")
        cases.append(
            (name.removesuffix(".txt"), fx.show(git, f"spec/fixtures/{name}"), fx.SUITE, T, value.strip())
        )
    return cases


def main(argv: list[str]) -> int:
    griddler, phabricator, gitlab, edlio, dotnet, mailstrip, mail_extract = argv
    earlier: list[str] = []
    for folder in EARLIER:
        for path in sorted(folder.glob("*.jsonl")):
            earlier += [fx.key(json.loads(x)["input"]) for x in path.read_text("utf-8").splitlines() if x]
    exact = set(earlier)
    left_out: dict[str, int] = {}
    suites: dict[str, list[dict[str, Any]]] = {}

    def known(key: str) -> bool:
        if key in exact:
            return True
        for other in earlier:
            matcher = difflib.SequenceMatcher(None, other, key, autojunk=False)
            quick = matcher.real_quick_ratio() >= NEAR and matcher.quick_ratio() >= NEAR
            if quick and matcher.ratio() >= NEAR:
                return True
        return False

    def add(suite: str, fmt: str, case: tuple[str, str, str, str, str]) -> None:
        case_id, text, spec, gold, suite_value = case
        rows = suites.setdefault(suite, [])
        key = fx.key(text)
        if known(key):
            left_out[suite] = left_out.get(suite, 0) + 1
            print(f"left out {suite}/{case_id}", file=sys.stderr)
            return
        exact.add(key)
        from_fixture = spec.startswith("@") and spec != fx.SUITE and not spec.startswith("@cut:")
        cut_from = fx.eml_text(text) if fmt == "eml" and from_fixture else text
        row: dict[str, Any] = {
            "id": f"{suite}/{case_id}",
            "format": fmt,
            "input": text,
            "expected": fx.gold(spec, cut_from, suite_value),
            "gold": gold,
        }
        if spec != fx.SUITE and suite_value and fx.key(suite_value) != fx.key(row["expected"]):
            row["suite_expected"] = suite_value
        rows.append(row)

    for case in griddler_cases(griddler):
        add("griddler", "text", case)
    for case in phabricator_cases(phabricator):
        add("phabricator", "text", case)
    for case in gitlab_cases(gitlab):
        add("gitlab", "eml", case)
    for case in edlio_cases(edlio):
        add("edlio", "text", case)
    for case in dotnet_cases(dotnet):
        add("dotnet", "text", case)
    for case in mailstrip_cases(mailstrip):
        add("mailstrip", "text", case)
    for case in mail_extract_cases(mail_extract):
        add("mail_extract", "text", case)

    fx.write_suites(OUT, suites, left_out, "in a suite or earlier here")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
