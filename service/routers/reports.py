"""Reports and exports of a selection: the report as JSON and as a printable page (admins and
committee members, who already read the ranking and the meetings it gathers), and the
candidate table as CSV and XLSX for HR systems (admins only: it lists every candidate, also
those the committee never sees)."""

from typing import Annotated, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.responses import HTMLResponse

from ..access import CurrentSelection, check_submitted_to_committee
from ..core.deps import AdminUser, ClockDep, SessionDep, require_roles
from ..core.errors import problems
from ..core.models import User
from ..core.routing import api_router
from ..reports import pages
from ..reports import service as reports
from ..reports.schemas import SelectionReport
from ..workflow.roles import ADMIN, COMMITTEE, JUDGE

router = api_router(prefix="/api/v1/selections/{selection_id}",
                   tags=["reports"])
ReportReader = Annotated[User, Depends(require_roles(ADMIN, COMMITTEE))]
SheetReader = Annotated[User, Depends(require_roles(ADMIN, JUDGE))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = {"Cache-Control": "private, no-store"}  # personal data and votes: never cached
HeaderStyle = Annotated[Literal["label", "key"], Query(
    description="`label`: column headers in the request's language (Chinese by default,"
    " English with `Accept-Language: en`); `key`: the columns' stable machine keys, the same"
    " in every language, for HR systems that parse by name", examples=["key"])]


def _file_response(media_type: str, description: str) -> dict:
    schema = {"type": "string", "format": "binary"} if media_type == XLSX else {"type": "string"}
    return {200: {"description": description, "content": {media_type: {"schema": schema}}},
            **problems(401, 403, 404, 422)}


@router.get("/report", response_model=SelectionReport, responses=problems(401, 403, 404, 422))
def read_selection_report(
    selection: CurrentSelection, session: SessionDep, user: ReportReader, clock: ClockDep,
    response: Response,
) -> SelectionReport:
    """The selection's report: the funnel by gate (how many entered each gate, passed, failed
    there, withdrew, are still pending, were kept in reserve), the candidates per state, the
    committee's outcomes, the interview ranking with scores, and every committee meeting
    with its votes. Labels follow `Accept-Language`. For admins, and for committee members
    once the selection is submitted to them (403 `not_submitted_to_committee` before)."""
    check_submitted_to_committee(user, selection)
    response.headers.update(NO_STORE)
    return reports.report(session, selection, clock)


@router.get("/report.html", response_class=HTMLResponse,
            responses=_file_response("text/html", "The report as a printable, self-contained"
                                     " HTML page (inline CSS with print styles, the funnel as an"
                                     " inline SVG chart, no script)"))
def print_selection_report(
    selection: CurrentSelection, session: SessionDep, user: ReportReader, clock: ClockDep,
) -> HTMLResponse:
    """The report as a printable page in the request's language (`<html lang>` says which):
    the funnel drawn as a bar chart, the tables, the committee's record."""
    check_submitted_to_committee(user, selection)
    return HTMLResponse(pages.report_page(session, selection, user, clock), headers=NO_STORE)


@router.get("/score-sheet.html", response_class=HTMLResponse,
            responses=_file_response("text/html", "The blank score registration sheet"))
def print_blank_score_sheet(selection: CurrentSelection, session: SessionDep, user: SheetReader,
                            clock: ClockDep) -> HTMLResponse:
    """The blank score registration sheet (评分登记表) of this selection, to print and fill in
    by hand: its criteria with their weights and full marks. For admins and judges."""
    return HTMLResponse(pages.score_sheet_page(session, selection, user, clock),
                        headers=NO_STORE)


@router.get("/candidates.csv", response_class=Response,
            responses=_file_response("text/csv", "The candidate table as CSV: UTF-8 with a"
                                     " byte-order mark, CRLF line ends, one header row"))
def export_candidates_csv(
    selection: CurrentSelection, session: SessionDep, admin: AdminUser, request: Request,
    header: HeaderStyle = "label",
) -> Response:
    """The candidate table for HR systems, oldest first: id, name, state and its label, gate,
    gender, education, party and work dates, unit, current post, nominations, eligibility,
    masked ID number, interview score and rank, the committee's outcome, registration time.
    No birth date, phone or email; cells that a spreadsheet would run as a formula are
    prefixed with an apostrophe. Admins only."""
    body = reports.candidates_csv(session, selection, header=header)
    return Response(body, media_type="text/csv; charset=utf-8", headers={
        **NO_STORE, "Vary": "User-Agent", "Content-Disposition": reports.content_disposition(
            selection, "candidates", "csv", user_agent=request.headers.get("user-agent", ""))})


@router.get("/candidates.xlsx", response_class=Response,
            responses=_file_response(XLSX, "The candidate table as an Excel workbook: the"
                                     " candidates (frozen header, typed cells) and the funnel"))
def export_candidates_xlsx(
    selection: CurrentSelection, session: SessionDep, admin: AdminUser, request: Request,
    header: HeaderStyle = "label",
) -> Response:
    """The candidate table (the same columns as the CSV) as an XLSX workbook, with a second
    sheet holding the funnel and its chart. Admins only."""
    body = reports.candidates_xlsx(session, selection, header=header)
    return Response(body, media_type=XLSX, headers={
        **NO_STORE, "Vary": "User-Agent", "Content-Disposition": reports.content_disposition(
            selection, "candidates", "xlsx", user_agent=request.headers.get("user-agent", ""))})
