"""Assemble other projects' reply-parser test suites into ``bench/suites/*.jsonl`` (run once).

    python bench/suites/assemble.py TALON_GIT EMAIL_REPLY_PARSER_GIT MAIL_PARSER_REPLY_GIT QUOTEQUAIL_GIT

Each argument is a bare git directory of that project (``git --git-dir=... show HEAD:<file>``).
The cases are what those projects assert in their own tests; the harvest runs their test code
against stand-in modules that record the input and the expected value instead of calling the
library, so no expected value is retyped by hand. Where a test asserts only a fragment
("``"riak-users" in body``"), the gold is written in ``GOLD`` below, from the fixture, by the rule
of this project's corpus: the sender's own words, without quote, attribution or signature.
``ADJUST`` records, per case, where a suite's expected value keeps a signature or sign-off that the
project's rule drops; the original expected value is kept in the row as ``suite_expected``.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent


def show(git_dir: str, path: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"HEAD:{path}"], check=True, capture_output=True
    ).stdout.decode("utf-8", "replace")


def ls(git_dir: str, under: str) -> list[str]:
    out = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "--name-only", "HEAD", under],
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [x for x in out.split("\n") if x]


class Tagged(str):
    """The value a stand-in library call returns: remembers the input it was called with."""

    source: str


def _tag(text: str) -> Tagged:
    t = Tagged("\x00tagged")
    t.source = text
    return t


# --- talon: tests/text_quotations_test.py (eq_(expected, extract_from_plain(body))) ------------
def harvest_talon(git: str) -> Iterator[dict[str, Any]]:
    import email
    import email.iterators
    import unittest.mock as um

    recorded: list[tuple[str, str]] = []

    def eq_(a: Any, b: Any, *_: Any) -> None:
        if isinstance(b, Tagged) and isinstance(a, str):
            recorded.append((b.source, a))
        elif isinstance(a, Tagged) and isinstance(b, str):
            recorded.append((a.source, b))

    quotations = types.ModuleType("talon.quotations")
    quotations.extract_from_plain = _tag  # type: ignore[attr-defined]
    quotations.MAX_LINES_COUNT = 1000  # type: ignore[attr-defined]
    talon = types.ModuleType("talon")
    talon.quotations = quotations  # type: ignore[attr-defined]
    talon.init = lambda: None  # type: ignore[attr-defined]
    nose = types.ModuleType("nose")
    tools = types.ModuleType("nose.tools")
    tools.eq_ = eq_  # type: ignore[attr-defined]
    tools.ok_ = tools.assert_true = tools.assert_false = lambda *a, **k: None  # type: ignore[attr-defined]
    tools.__all__ = ["eq_", "ok_", "assert_true", "assert_false"]  # type: ignore[attr-defined]
    mock = types.ModuleType("mock")
    mock.patch = um.patch  # type: ignore[attr-defined]
    mock.Mock = um.Mock  # type: ignore[attr-defined]
    mock.__all__ = ["patch", "Mock"]  # type: ignore[attr-defined]
    sys.modules.update({"talon": talon, "talon.quotations": quotations, "nose": nose, "nose.tools": tools})
    sys.modules["mock"] = mock
    src = show(git, "tests/text_quotations_test.py")
    src = src.replace("from . import *", "from nose.tools import *\nfrom mock import *")
    src = src.replace("from . fixtures import *", "")
    ns: dict[str, Any] = {"__name__": "talon_tests"}
    exec(compile(src, "talon/tests/text_quotations_test.py", "exec"), ns)
    for name, fn in list(ns.items()):
        # test_too_many_lines patches talon's own line limit to 1: a test of that setting, not of
        # a reply; test_standard_replies is harvested from its fixture files below
        if (
            name.startswith("test_")
            and callable(fn)
            and name not in ("test_standard_replies", "test_too_many_lines")
        ):
            before = len(recorded)
            with contextlib.suppress(Exception):
                fn()
            for k, (text, want) in enumerate(recorded[before:]):
                yield {"id": f"talon/{name}/{k}", "format": "text", "input": text, "expected": want}
    # tests/fixtures/standard_replies: the reply is "Hello" unless a *_reply_text file says otherwise
    for path in ls(git, "tests/fixtures/standard_replies"):
        if not path.endswith(".eml"):
            continue
        raw = show(git, path)
        msg = email.message_from_string(raw)
        body = next(email.iterators.typed_subpart_iterator(msg, subtype="plain"))
        payload = body.get_payload(decode=True)
        text = payload.decode("utf8") if isinstance(payload, bytes) else str(payload)
        alt = path[:-4] + "_reply_text"
        want = show(git, alt).strip() if alt in ls(git, "tests/fixtures/standard_replies") else "Hello"
        yield {"id": f"talon/{Path(path).stem}.eml", "format": "text", "input": text, "expected": want}
    # tests/fixtures/html_replies: every one is "Hi. I am fine.\n\nThanks,\nAlex"
    for path in ls(git, "tests/fixtures/html_replies"):
        yield {
            "id": f"talon/html/{Path(path).name}",
            "format": "html",
            "input": show(git, path),
            "expected": "Hi. I am fine.\n\nThanks,\nAlex",
        }


# --- quotequail: tests/test_quote.py (own text = the True parts with quote_intro_line=True) -----
def harvest_quotequail(git: str) -> Iterator[dict[str, Any]]:
    params: list[Any] = []
    pytest = types.ModuleType("pytest")

    class _Mark:
        def parametrize(self, names: Any, values: Any) -> Callable[[Any], Any]:
            params.append((names, values))
            return lambda f: f

    pytest.mark = _Mark()  # type: ignore[attr-defined]
    pytest.fixture = lambda *a, **k: lambda f: f  # type: ignore[attr-defined]
    qq = types.ModuleType("quotequail")
    qq.quote = qq.quote_html = lambda *a, **k: None  # type: ignore[attr-defined]
    sys.modules.update({"pytest": pytest, "quotequail": qq})
    for test_file, fmt in (("tests/test_quote.py", "text"), ("tests/test_quote_html.py", "html")):
        params.clear()
        exec(compile(show(git, test_file), test_file, "exec"), {"__name__": "qq_tests"})
        for _, values in params:
            for k, (inp, _expected, intro) in enumerate(values):
                own = [part for visible, part in intro if visible]
                if fmt == "html":
                    yield {
                        "id": f"quotequail/{Path(test_file).stem}/{k}",
                        "format": "html",
                        "input": inp,
                        "expected_html": "".join(own),
                    }
                else:
                    yield {
                        "id": f"quotequail/{Path(test_file).stem}/{k}",
                        "format": "text",
                        "input": inp,
                        "expected": "\n".join(own),
                    }


# --- email_reply_parser (GitHub, Ruby) and mail-parser-reply: fixture files ----------------------
def harvest_files(git: str, prefix: str, under: str, gold: dict[str, str]) -> Iterator[dict[str, Any]]:
    from gold import FROM_INPUT, from_input

    for path in ls(git, under):
        name = Path(path).stem
        if name in gold or name in FROM_INPUT:
            text = show(git, path)
            want = gold[name] if name in gold else from_input(text, FROM_INPUT[name])
            yield {"id": f"{prefix}/{name}", "format": "text", "input": text, "expected": want}


def main() -> int:
    from gold import ADJUST, ERP_GOLD, MPR_GOLD, html_text

    talon_git, erp_git, mpr_git, qq_git = sys.argv[1:5]
    suites = {
        "talon": list(harvest_talon(talon_git)),
        "email_reply_parser": list(harvest_files(erp_git, "email_reply_parser", "test/emails", ERP_GOLD)),
        "mail_parser_reply": list(harvest_files(mpr_git, "mail_parser_reply", "test/emails", MPR_GOLD)),
        "quotequail": list(harvest_quotequail(qq_git)),
    }
    for name, rows in suites.items():
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                if "expected_html" in row:
                    row["expected"] = html_text(row.pop("expected_html"))
                if row["id"] in ADJUST:
                    row["suite_expected"] = row["expected"]
                    row["expected"] = ADJUST[row["id"]]
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{name}: {len(rows)} cases")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(OUT))
    sys.exit(main())
