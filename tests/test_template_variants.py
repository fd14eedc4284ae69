"""A/B variants of a template (chosen per request, recorded, compared in `report responsiveness
--by variant` with a test of the answer rates), and a version that fails at send time: the last
good version goes out, and `feedback status` shows the failure. Both backends."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app
from feedback.outbound.rendering import Renderer, Variant, pick_variant, shipped_source
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.template_store import install, load_renderer, reset, sample_context
from feedback.outbound.transports import MaildirTransport
from feedback.reports import Filters, render_to_string, responsiveness
from feedback.reports.variants import Arm, verdict
from feedback.runtime.settings import Settings
from feedback.services.answers import correct_answer
from feedback.services.status import service_status
from feedback.storage.models import FeedbackRequest, Lead, OutboundMail, Rep, TemplateFailure, TemplateVariant

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0)
NAME = "disposition_request"

VARIANT_B = shipped_source(NAME).replace("{% block subject %}", "{% block subject %}Quick one: ", 1)


# the choice per request --------------------------------------------------------------------------


def test_the_variant_is_chosen_by_the_request_id_and_follows_the_weights() -> None:
    arms = [Variant(None, None, 50), Variant(3, "x", 50)]
    assert [pick_variant(arms, i, "k").number for i in range(50)] == [
        pick_variant(arms, i, "k").number for i in range(50)
    ]
    counts = Counter(pick_variant(arms, i, "k").number for i in range(2000))
    assert 900 < counts[None] < 1100 and 900 < counts[3] < 1100
    three = [Variant(1, "a", 20), Variant(2, "b", 30), Variant(3, "c", 50)]
    counts = Counter(pick_variant(three, i, "k").number for i in range(3000))
    assert 500 < counts[1] < 700 and 800 < counts[2] < 1000 and 1380 < counts[3] < 1620


def test_without_a_request_no_variant_is_picked() -> None:
    renderer = Renderer(variants={NAME: [Variant(None, None, 1), Variant(3, VARIANT_B, 1)]})
    assert renderer.pick(NAME, "en", None) is renderer
    picked = {renderer.pick(NAME, "en", i).version(NAME) for i in range(20)}
    assert "override-3" in picked and any(v.startswith("shipped-") for v in picked)


# the verdict -------------------------------------------------------------------------------------


def test_verdict_names_the_variant_that_answers_more_often() -> None:
    v = verdict([Arm("override-4", 100, 62), Arm("shipped", 100, 40)])
    assert v.test == "Fisher's exact" and v.p is not None and v.p < 0.01
    assert v.sentence.startswith("override-4 answers more often (62 % vs 40 %, p = 0.00")


def test_verdict_says_no_difference_yet_when_n_is_small() -> None:
    v = verdict([Arm("A", 6, 4), Arm("B", 5, 2)])
    assert v.sentence.startswith("no difference yet (n too small: 5 sent")
    big = verdict([Arm("A", 200, 100), Arm("B", 200, 102)])
    assert big.sentence.startswith("no difference (51 % vs 50 %, p = ")


def test_three_variants_use_chi_square() -> None:
    v = verdict([Arm("A", 100, 30), Arm("B", 100, 60), Arm("C", 100, 45)])
    assert v.test == "chi-square" and v.p is not None and v.p < 0.001
    assert v.sentence == "B answers most often (60 % vs 30 % for A, p < 0.001)"
    assert verdict([Arm("A", 10, 10), Arm("B", 10, 10), Arm("C", 10, 10)]).p == 1.0


def test_a_single_version_has_nothing_to_compare() -> None:
    v = verdict([Arm("shipped-1a2b3c4d", 60, 52)])
    assert v.p is None and v.sentence.startswith("one version only")


def test_a_variant_that_fails_falls_back_to_the_last_good_version() -> None:
    from feedback.storage.models import Lead as LeadRow

    broken = VARIANT_B.replace("{% block subject %}", "{% block subject %}" + BOOM, 1)
    renderer = Renderer(
        {NAME: broken},
        {NAME: "override-2"},
        variants={NAME: [Variant(None, None, 1), Variant(2, broken, 1)]},
        good={NAME: [(2, broken), (1, VARIANT_B)]},
    )
    from feedback.outbound.requesting import lead_context

    ctx = sample_context(_taxonomy(), "Sales", NAME, "en")
    ctx["lead"] = lead_context(LeadRow(crm_id="L", company="Boom Corp"))
    seen = set()
    for seed in range(12):
        mail, failure = renderer.render_or_shipped(NAME, ctx, "en", seed=seed)
        chosen = pick_variant(renderer.variants[NAME], seed, NAME)
        if chosen.number == 2:
            assert failure is not None and failure.version == "override-2" and mail.version == "override-1"
            assert "last good version" in str(failure)
        else:
            assert failure is None and mail.version.startswith("shipped-")
        seen.add(chosen.number)
    assert seen == {None, 2}


def _taxonomy():  # type: ignore[no-untyped-def]
    from feedback.core.taxonomy import load_taxonomy

    return load_taxonomy()


# end to end --------------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, database_url: str, engine: Engine) -> dict[str, str]:
    config = tmp_path / "feedback.toml"
    config.write_text("")
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_CONFIG": str(config),
        "FEEDBACK_SECRET": "test-secret",
        "COLUMNS": "250",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout + result.stderr


def _leads(engine: Engine, n: int, language: str = "en", company: str = "Globex") -> None:
    with Session(engine) as s:
        rep = Rep(
            email=f"rep-{language}-{company[:4].lower()}@x.example", name="Dana Weber", language=language
        )
        s.add(rep)
        s.commit()
        for i in range(n):
            s.add(
                Lead(
                    crm_id=f"L{language}{company}{i}",
                    name=f"Lead {i}",
                    company=company,
                    rep_id=rep.id,
                    assigned_at=T0,
                )
            )
        s.commit()


def _send(engine: Engine, settings: Settings, tmp_path: Path) -> Settings:
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "daily_cap_per_rep": 1000})
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox"), now=T0))
    assert result.errors == []
    return settings


def _install_b(engine: Engine, settings: Settings, lang: str = "en") -> int:
    with Session(engine) as s:
        row = install(
            s,
            name=NAME,
            lang=lang,
            source=VARIANT_B,
            context=sample_context(settings.taxonomy, settings.from_name, NAME, lang),
            author="test",
        )
        return row.version


def test_variants_cli_sets_lists_refuses_and_clears(
    engine: Engine, settings: Settings, env: dict[str, str]
) -> None:
    version = _install_b(engine, settings)
    code, out = invoke(env, "templates", "variants", NAME, "--set", "shipped=50", f"{version}=50")
    assert code == 0, out
    assert "shipped" in out and "50 %" in out
    code, out = invoke(env, "templates", "variants", NAME)
    assert code == 0 and f"{version}" in out and "shipped" in out
    code, out = invoke(env, "templates", "list", "--lang", "en")
    assert "override-1 50 %" in out and "shipped 50 %" in out
    for args, message in [
        (["--set", "shipped=50"], "two or more"),
        (["--set", "shipped=50", "9=50"], "no version 9"),
        (["--set", "shipped=x", "1=50"], "VERSION=WEIGHT"),
        (["--lang", "de", "--set", "shipped=50", f"{version}=50"], "not 'de'"),
        (["--set", "shipped=50", "--clear"], "do not go together"),
    ]:
        code, out = invoke(env, "templates", "variants", NAME, *args)
        assert code == 2 and message in out, (args, out)
        assert "Traceback" not in out
    code, out = invoke(env, "templates", "variants", NAME, "--clear")
    assert code == 0 and "ended (2 variant(s))" in out
    with Session(engine) as s:
        assert s.exec(select(TemplateVariant)).all() == []


def test_reset_ends_the_ab_test(engine: Engine, settings: Settings, env: dict[str, str]) -> None:
    version = _install_b(engine, settings)
    assert invoke(env, "templates", "variants", NAME, "--set", "shipped=1", f"{version}=1")[0] == 0
    with Session(engine) as s:
        reset(s, NAME, "en")
        assert s.exec(select(TemplateVariant)).all() == []


def test_a_two_variant_run_shows_answer_rates_and_the_verdict(
    engine: Engine, settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    version = _install_b(engine, settings)
    code, out = invoke(env, "templates", "variants", NAME, "--set", "shipped=50", f"{version}=50")
    assert code == 0, out
    _leads(engine, 80)
    settings = _send(engine, settings, tmp_path)
    with Session(engine) as s:
        renderer = load_renderer(s, settings)
        requests = s.exec(select(FeedbackRequest).order_by(col(FeedbackRequest.id))).all()
        mails = {m.request_id: m for m in s.exec(select(OutboundMail)).all()}
        by_version = Counter(r.template_version for r in requests)
        assert len(by_version) == 2
        for r in requests:
            # deterministic: the request id decides, and the mail and the request record the same
            expected = pick_variant(renderer.variants[NAME], r.id, NAME)
            assert r.template_version == (
                expected.label
                if expected.number is not None
                else renderer.pick(NAME, "en", r.id).version(NAME)
            )
            assert mails[r.id].template_version == r.template_version
            assert mails[r.id].subject.startswith("Quick one:") == (expected.number == version)
        # B is answered three times in four, A once in four
        b_seen = a_seen = 0
        for r in requests:
            assert r.id is not None
            if r.template_version == f"override-{version}":
                b_seen += 1
                answer = b_seen % 4 != 0
            else:
                a_seen += 1
                answer = a_seen % 4 == 0
            if answer:
                correct_answer(
                    session=s,
                    settings=settings,
                    request_id=r.id,
                    outcome="accepted",
                    by="t",
                    now=T0 + timedelta(hours=3),
                )
        s.commit()
    assert min(by_version.values()) >= 25
    report = responsiveness(engine, Filters(by="variant"), settings, now=T0 + timedelta(days=1))
    rows = {r["variant"]: r for r in report.section("by_variant").rows}
    b = rows[f"override-{version}"]
    a = next(r for k, r in rows.items() if k.startswith("shipped-"))
    assert (
        b["sent"] == by_version[f"override-{version}"] and b["answered"].count == b["sent"] - b["sent"] // 4
    )
    assert a["answered"].count == a["sent"] // 4 and b["median_hours"] == 3.0
    tests = report.section("variant_tests").rows
    assert len(tests) == 1 and tests[0]["test"] == "Fisher's exact"
    assert tests[0]["verdict"].startswith(f"override-{version} answers more often (")
    table = render_to_string(report, "table")
    assert f"override-{version} answers more often" in table and "Fisher" in table
    code, out = invoke(env, "report", "responsiveness", "--by", "variant")
    assert code == 0, out
    assert f"override-{version}" in out and "answers more often" in out
    html_file = tmp_path / "r.html"
    code, out = invoke(
        env, "report", "responsiveness", "--by", "variant", "--format", "html", "-o", str(html_file)
    )
    assert code == 0, out
    html = html_file.read_text()
    assert (
        "By template variant" in html
        and "answers more often" in html
        and f"{b['answered']}".split(" ")[0] in html
    )


def test_by_variant_is_refused_where_it_means_nothing(env: dict[str, str]) -> None:
    code, out = invoke(env, "report", "funnel", "--by", "variant")
    assert code == 2 and "responsiveness" in out
    code, out = invoke(env, "report", "responsiveness", "--by", "rep")
    assert code == 2 and "variant" in out


# a version that fails at send time --------------------------------------------------------------

BOOM = '{% if lead.company == "Boom Corp" %}{{ 1 // 0 }}{% endif %}'


def test_a_failing_version_sends_the_last_good_one_and_status_shows_it(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    good = _install_b(engine, settings)
    with Session(engine) as s:
        broken = install(
            s,
            name=NAME,
            lang="en",
            source=VARIANT_B.replace("{% block subject %}", "{% block subject %}" + BOOM, 1),
            context=sample_context(settings.taxonomy, settings.from_name, NAME, "en"),
            author="test",
            comment="passes the sample, fails on Boom Corp",
        ).version
    _leads(engine, 1, company="Boom Corp")
    _leads(engine, 1, company="Fine Ltd")
    settings = _send(engine, settings, tmp_path)
    with Session(engine) as s:
        sent = {
            s.get(Lead, r.lead_id).company: r.template_version  # type: ignore[union-attr]
            for r in s.exec(select(FeedbackRequest)).all()
        }
        failures = s.exec(select(TemplateFailure)).all()
    assert sent == {"Boom Corp": f"override-{good}", "Fine Ltd": f"override-{broken}"}
    assert len(failures) == 1
    f = failures[0]
    assert (f.template, f.version, f.sent_version, f.purpose) == (
        NAME,
        f"override-{broken}",
        f"override-{good}",
        "request",
    )
    assert "ZeroDivisionError" in f.error
    rows = {
        r["metric"]: r["value"] for r in service_status(engine, settings, now=T0 + timedelta(days=1)).rows()
    }
    assert rows["template failures (last 7 days)"] == 1
    newest = rows["newest template failure"]
    assert (
        f"{NAME} override-{broken}" in newest
        and "ZeroDivisionError" in newest
        and f"override-{good}" in newest
    )
    later = {
        r["metric"]: r["value"] for r in service_status(engine, settings, now=T0 + timedelta(days=8)).rows()
    }
    assert later["template failures (last 7 days)"] == 0 and "newest template failure" not in later


def test_with_no_good_override_left_the_shipped_text_goes_out(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    with Session(engine) as s:
        install(
            s,
            name=NAME,
            lang="de",
            source=shipped_source(f"de/{NAME}").replace(
                "{% block subject %}", "{% block subject %}" + BOOM, 1
            ),
            context=sample_context(settings.taxonomy, settings.from_name, NAME, "de"),
            author="test",
        )
    _leads(engine, 1, language="de", company="Boom Corp")
    settings = _send(engine, settings, tmp_path)
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
        failure = s.exec(select(TemplateFailure)).one()
    assert request.template_version.startswith("de/shipped-")
    assert failure.language == "de" and failure.version == "de/override-1"


# the weekly digest in each language --------------------------------------------------------------


def _answered_week(engine: Engine, settings: Settings, tmp_path: Path) -> Settings:
    _leads(engine, 2, company="Globex")
    settings = _send(engine, settings, tmp_path)
    with Session(engine) as s:
        for r in s.exec(select(FeedbackRequest)).all():
            assert r.id is not None
            correct_answer(
                session=s,
                settings=settings,
                request_id=r.id,
                outcome="rejected",
                reasons=["not_a_fit"],
                by="t",
                now=T0 + timedelta(hours=2),
            )
        s.commit()
    return settings


@pytest.mark.parametrize(
    ("lang", "subject", "words"),
    [
        (
            "en",
            "Sales feedback, week to 09 Mar 2026: 2 leads, 0 % accepted",
            ["Leads by campaign", "Not a fit"],
        ),
        (
            "de",
            "Vertriebsfeedback, Woche bis 9. März 2026: 2 Leads, 0 % angenommen",
            ["Leads nach Kampagne", "Passt nicht zu uns", "An den Vertrieb übergebene Leads", "Abgelehnt"],
        ),
        (
            "fr",
            "Retours commerciaux, semaine au 9 mars 2026 : 2 leads, 0 % acceptés",
            ["Hors cible", "Leads par campagne"],
        ),
        (
            "es",
            "Feedback de ventas, semana hasta el 9 de marzo de 2026: 2 leads, 0 % aceptados",
            ["No encaja con nuestro perfil"],
        ),
    ],
)
def test_the_weekly_digest_goes_out_in_digest_language(
    engine: Engine, settings: Settings, tmp_path: Path, lang: str, subject: str, words: list[str]
) -> None:
    from feedback.outbound.digest_mail import send_digest

    settings = _answered_week(engine, settings, tmp_path)
    settings = settings.model_copy(update={"digest_recipients": ["cmo@x.example"], "digest_language": lang})
    outbox = tmp_path / "digest"
    assert asyncio.run(send_digest(engine, settings, MaildirTransport(outbox), now=datetime(2026, 3, 9))) == 1
    import mailbox

    box = mailbox.Maildir(outbox, create=False)
    (msg,) = [box[k] for k in box.keys()]  # noqa: SIM118
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(msg["Subject"]))) == subject
    parts = {
        p.get_content_subtype(): p.get_payload(decode=True).decode()
        for p in msg.walk()
        if p.get_content_maintype() == "text"
    }
    for w in words:
        assert w in parts["plain"] and w in parts["html"], w
    if lang != "en":
        assert "Leads by campaign" not in parts["plain"] and "Just hit reply" not in parts["html"]
    with Session(engine) as s:
        mail = s.exec(select(OutboundMail).where(OutboundMail.purpose == "digest")).one()
    assert mail.template_version is not None and mail.template_version.startswith(
        "shipped-" if lang == "en" else f"{lang}/shipped-"
    )


def test_an_admin_changes_the_german_digest_and_a_bad_language_setting_is_refused(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    from feedback.outbound.digest_mail import send_digest
    from feedback.runtime.settings import load_settings

    with Session(engine) as s:
        install(
            s,
            name="digest",
            lang="de",
            source=shipped_source("de/digest").replace(
                "Vertriebsfeedback, Woche", "Wochenbericht Vertrieb, Woche"
            ),
            context=sample_context(settings.taxonomy, settings.from_name, "digest", "de"),
            author="test",
        )
    settings = settings.model_copy(update={"digest_recipients": ["cmo@x.example"], "digest_language": "de"})
    asyncio.run(send_digest(engine, settings, MaildirTransport(tmp_path / "d"), now=datetime(2026, 3, 9)))
    with Session(engine) as s:
        mail = s.exec(select(OutboundMail)).one()
    assert (
        mail.subject.startswith("Wochenbericht Vertrieb, Woche bis 9. März 2026")
        and mail.template_version == "de/override-1"
    )
    with pytest.raises(Exception, match="two-letter"):
        load_settings({}, data_dir=tmp_path, secret="x" * 32, digest_language="German")
