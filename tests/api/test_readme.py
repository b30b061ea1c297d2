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
