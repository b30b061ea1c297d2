"""README embeds the workflow diagrams generated from the table, so they cannot drift."""

from pathlib import Path

from service.workflow import WORKFLOW
from service.workflow.diagram import mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_embeds_the_current_diagrams():
    text = README.read_text()
    for machine in WORKFLOW.machines.values():
        assert f"```mermaid\n{mermaid(machine)}\n```" in text, (
            f"README's {machine.name} diagram is out of date: `python -m service diagram`"
        )


def test_readme_names_the_two_commands():
    text = README.read_text()
    assert "python3 tasks.py serve" in text and "python3 tasks.py test" in text


def test_readme_starts_the_curl_guide_the_way_the_guide_does():
    """README's short curl section starts the server with the very lines the tested guide
    (docs/curl-guide.md, run by tests/api/test_curl_guide.py) shows, and links to it."""
    from tests.api.test_curl_guide import ADMIN_SETTING, GUIDE, blocks

    text = README.read_text()
    assert "(docs/curl-guide.md)" in text
    console = next(b for b, _ in blocks(GUIDE.read_text(encoding="utf-8"))
                   if b.lang == "console" and ADMIN_SETTING in b.text)
    for line in console.text.splitlines():
        assert line.removeprefix("$ ") in text, line


def _section(text: str, heading: str) -> str:
    """The text under a heading, up to the next heading of its level or above."""
    level = heading.split(" ")[0]
    start = text.index(heading + "\n") + len(heading)
    ends = [i for i in (text.find("\n" + "#" * n + " ", start) for n in range(1, len(level) + 1))
            if i >= 0]
    return text[start:min(ends, default=len(text))]


def test_the_front_end_part_is_one_section_whose_anchor_lands_on_the_sessions():
    text = README.read_text()
    assert text.count("\n## For front-end developers\n") == 1
    assert text.count("\n### Sessions and ETags\n") == 1
    assert "(#sessions-and-etags)" in text
    sessions = _section(text, "### Sessions and ETags")
    assert "POST /api/v1/auth/refresh" in sessions and "If-None-Match" in sessions
    assert "### Sessions and ETags" in _section(text, "## For front-end developers")


def test_the_front_end_part_shows_the_form_encoded_login_that_works():
    """The same call as clients/ts/scenario.ts, which the suite type-checks and runs."""
    sessions = _section(README.read_text(), "### Sessions and ETags")
    assert "application/x-www-form-urlencoded" in sessions
    scenario = (README.parent / "clients" / "ts" / "scenario.ts").read_text()
    for line in ('bodySerializer: (body) => new URLSearchParams(body as Record<string, string>),',
                 'headers: { "Content-Type": "application/x-www-form-urlencoded" },'):
        assert line in scenario and line in sessions


def test_printable_pages_are_said_to_open_inline_as_the_document_declares():
    from service.main import app

    text = README.read_text()
    assert "Excel, printable" not in text  # the headers once listed pages among downloads
    assert "open inline" in _section(text, "### Documents to print")
    for path, ops in app.openapi()["paths"].items():
        if path.endswith(".html"):
            assert "Content-Disposition" not in ops["get"]["responses"]["200"]["headers"], path
