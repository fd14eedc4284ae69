"""Admin templates cannot read files outside the template store, nor hang or flood a send.

A template is checked at `templates edit` with sample data, but a loop that runs only on real
data (a condition on the lead) passes that check: the limits must hold at send time too.
"""

from __future__ import annotations

import os
import time
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from feedback.core.taxonomy import default_taxonomy
from feedback.outbound.rendering import Renderer, RenderLimits, TemplateError, option_groups
from feedback.outbound.requesting import load_renderer
from feedback.runtime.settings import Settings
from feedback.storage.models import TemplateOverride

TAIL = "{% block text %}t{% endblock %}{% block html %}h{% endblock %}"


def ctx(company: str = "Globex") -> dict[str, Any]:
    return {
        "rep": {"first_name": "Dana", "name": "Dana W"},
        "lead": {"name": "Peter", "company": company},
        "options": option_groups(default_taxonomy().kind("disposition")),
        "sender_name": "Sales Feedback",
        "about": "lead Peter",
        "original_subject": "Lead",
    }


def with_subject(body: str) -> str:
    return "{% block subject %}" + body + "{% endblock %}" + TAIL


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.j2"
    secret.write_text("TOP-SECRET-CONTENT")
    return secret


@pytest.mark.parametrize("form", ["absolute", "relative"])
def test_include_outside_the_store_is_refused(outside: Path, form: str) -> None:
    store = Path(str(resources.files("templates")))
    target = str(outside) if form == "absolute" else os.path.relpath(outside, store)
    for source in (
        with_subject(f'{{% include "{target}" %}}'),
        with_subject(f'{{% import "{target}" as x %}}x'),
        with_subject(f'{{% from "{target}" import y %}}x'),
    ):
        with pytest.raises(TemplateError, match="template store") as err:
            Renderer().check("reminder", source, ctx())
        assert "TOP-SECRET" not in str(err.value)


def test_include_by_store_name_works() -> None:
    renderer = Renderer({"acknowledgement": "Shared footer for {{ lead.name }}"})
    mail = renderer.check("reminder", with_subject('Hi {% include "acknowledgement" %}'), ctx())
    assert mail.subject == "Hi Shared footer for Peter"
    missing = Renderer().check("reminder", with_subject('{% include "/etc/x.j2" ignore missing %}x'), ctx())
    assert missing.subject == "x"


BOMBS = {
    "nested-range": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "prebuilt-list": (
        "{% set r = range(100000)|list %}"
        "{% for a in r %}{% for b in r %}{% for c in r %}{% endfor %}{% endfor %}{% endfor %}"
    ),
    "recursive-macro": (
        "{% macro m(n) %}{% if n %}{{ m(n - 1) }}{{ m(n - 1) }}{% endif %}{% endmacro %}{{ m(60) }}"
    ),
    "big-power": "{{ 7 ** (10 ** 12) }}",
}


@pytest.mark.parametrize("bomb", list(BOMBS), ids=list(BOMBS))
def test_loop_on_real_data_only_passes_edit_then_is_stopped_at_send(bomb: str) -> None:
    source = with_subject('{% if lead.company != "Globex" %}' + BOMBS[bomb] + "{% endif %}ok")
    renderer = Renderer()
    renderer.check("reminder", source, ctx())  # the sample data takes the harmless branch
    real = Renderer({"reminder": source}, limits=RenderLimits(seconds=0.5))
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"template reminder: .*(longer than 0.5 s|too large)"):
        real.render("reminder", ctx(company="Initech"))
    assert time.monotonic() - started < 10  # wall time; the budget counts CPU time


@pytest.mark.parametrize(
    "flood",
    [
        "{% for a in range(100000) %}{{ lead.name }} and some more words {% endfor %}",
        '{{ "x" * 1000000000 }}',
        '{{ ["x"] * 1000000000 }}',
    ],
    ids=["loop-output", "string-repeat", "list-repeat"],
)
def test_output_over_the_limit_is_refused(flood: str) -> None:
    renderer = Renderer({"reminder": with_subject(flood)}, limits=RenderLimits(max_output=100_000))
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"output .*100000 characters"):
        renderer.render("reminder", ctx())
    assert time.monotonic() - started < 10  # wall time; the budget counts CPU time


def test_send_path_uses_the_settings_limits(engine: Any, settings: Settings) -> None:
    bomb = with_subject('{% if lead.company != "Globex" %}' + BOMBS["nested-range"] + "{% endif %}ok")
    with Session(engine) as session:
        session.add(TemplateOverride(name="reminder", version=1, source=bomb, created_by="t"))
        session.commit()
        renderer = load_renderer(session, settings.model_copy(update={"template_render_timeout": 0.3}))
    assert renderer.render("reminder", ctx()).subject == "ok"
    started = time.monotonic()
    with pytest.raises(TemplateError, match=r"longer than 0.3 s"):
        renderer.render("reminder", ctx(company="Initech"))
    assert time.monotonic() - started < 10  # wall time; the budget counts CPU time


def test_shipped_templates_render_within_limits() -> None:
    mail = Renderer(limits=RenderLimits(seconds=1.0, max_output=64_000)).render("reminder", ctx())
    assert "Peter" in mail.text or "Dana" in mail.text
