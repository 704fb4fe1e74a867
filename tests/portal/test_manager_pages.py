"""Manager report pages, downloads and the partner scorecard, on the fixed history."""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from connectors.tabular import safe_cell
from distribution import clock, local_time
from distribution.db import db
from distribution.models import Assignment, Role
from distribution.reports.export import Table, render
from distribution.reports.period import Period
from distribution.reports.tables import money
from tests.reports_data import REPORT_AT, build

WEEK = {"period": "custom", "from": "2026-01-05", "to": "2026-01-11"}


@pytest.fixture
def history(world):
    """The fixed history, a manager of its vendor and a user of each of two partners."""
    h = build(world)
    world.user(Role.PARTNER_MANAGER, h.vendor, email="manager@acme.example.com")
    world.user(Role.PARTNER_USER, h.vendor, email="alpha@acme.example.com", partner=h.alpha)
    world.user(Role.PARTNER_USER, h.vendor, email="beta@acme.example.com", partner=h.beta)
    return h


@pytest.fixture
def at_report_time(history):
    """The clock held where the figures of the history were counted by hand."""
    with clock.frozen_at(REPORT_AT):
        yield history


@contextmanager
def logged_in(auth, email):
    auth.login(email)
    yield
    auth.logout()


def page(client, path, **params):
    response = client.get(path, query_string=params)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def row_of(body, name):
    """The cells of the first table row whose header names ``name``, as text."""
    for line in body.split("<tr")[1:]:
        head, _, rest = line.partition("</th>")
        if name in head:
            cells = [c.split(">")[-1] for c in rest.split("</a>")]
            return head, rest, cells
    raise AssertionError(f"no row for {name}")


def drilled_ids(body):
    """The lead ids of the drill-down's rows, in the order shown."""
    return [int(i) for i in re.findall(r'<tr><td class="text"><a href="[^"]*">#(\d+) ', body)]


def test_dashboard_shows_the_week_flagged_partners_first(client, auth, at_report_time):
    h = at_report_time
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/", columns="all", **WEEK)
    assert "5 Jan 2026 – 11 Jan 2026" in body
    table = body.split("<table")[1]
    order = [table.index(f">{name}</a>") for name in ("Gamma", "Alpha", "Beta")]
    assert order == sorted(order)
    head, rest, _ = row_of(table, ">Alpha<")
    assert "needs attention" in head
    cells = [c.split(">")[-1] for c in rest.split("</td>")]
    # offered, then accepted, declined, expired, recalled, won, open after the key rates
    assert [cells[1], *cells[6:12]] == ["6", "4", "1", "1", "1", "1", "0"]
    assert ">66.7%</a>" in rest and ">75%</a>" in rest and ">1.5 h</a>" in rest
    assert ">2.7 h</a>" in rest and ">1,000.00</a>" in rest
    assert "needs attention" not in row_of(table, ">Beta<")[0]
    flagged = body.split('id="flagged"')[1].split("</section>")[0]
    assert "Gamma" in flagged and "Alpha" in flagged and "Beta" not in flagged
    assert f"key={h.alpha.id}" in rest and "figure=accepted" in rest


def test_dashboard_groups_by_tier(client, auth, at_report_time):
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/", group="tier", columns="all", **WEEK)
    _head, rest, _ = row_of(body.split("<table")[1], "gold")
    cells = [c.split(">")[-1] for c in rest.split("</td>")]
    assert [cells[0], *cells[5:11]] == ["8", "6", "1", "1", "1", "2", "1"]


def test_the_partner_table_shows_the_key_rates_first_and_the_rest_on_request(
    client, auth, at_report_time
):
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/", **WEEK)
    table = body.split("<table")[1].split("</table>")[0]
    heads = [h.split(">")[-1] for h in table.split("</th>")[:7]]
    assert heads == ["Partner", "Tier", "Offered", "Accepted %", "Followed up within SLA",
                     "Won %", "Revenue"]  # fmt: skip
    assert "Declined %" not in table and "Median to accept" not in table
    _head, rest, _ = row_of(table, ">Alpha<")
    assert ">66.7%</a>" in rest and ">1,000.00</a>" in rest  # accepted, revenue
    more = body.split('class="column-switch"')[1].split("</p>")[0]
    assert "More columns" in more and "columns=all" in more and "period=custom" in more
    every = page(client, "/manager/", columns="all", **WEEK)
    assert "Declined %" in every and "Median to accept" in every and "Key rates only" in every
    assert '<input type="hidden" name="columns" value="all">' in every  # kept by "Show"


def test_drill_down_page_lists_the_counted_leads(client, auth, at_report_time):
    h = at_report_time
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/leads", group="partner", key=h.alpha.id, figure="accepted",
                **WEEK)  # fmt: skip
    assert "The 4 hand-overs behind this figure" in body
    shown = set(drilled_ids(body))
    assert shown == {h.leads[n].id for n in ("a1", "a2", "a5", "a6")}
    other = page(client, "/manager/leads", group="total", key="all", figure="declined",
                 reason="outside_territory", **WEEK)  # fmt: skip
    assert f"#{h.leads['b3'].id} " in other and "The 1 hand-over " in other


def test_drill_down_of_another_vendors_partner_is_404(client, auth, world, at_report_time):
    other = world.vendor("other", "Other")
    stranger = world.partner(other, "Stranger")
    auth.login("manager@acme.example.com")
    response = client.get("/manager/leads", query_string={"group": "partner", "key": stranger.id})
    assert response.status_code == 404
    assert client.get(f"/manager/partners/{stranger.id}").status_code == 404
    assert client.get(f"/manager/partners/{at_report_time.alpha.id}").status_code == 200


def test_a_partner_sees_its_own_scorecard_only(client, auth, at_report_time):
    h = at_report_time
    auth.login("beta@acme.example.com")
    body = page(client, "/partner/scorecard", **WEEK)
    assert "Scorecard: Beta" in body and "Alpha" not in body
    assert "66.7% (2)" in body and "100% (2 of 2)" in body
    assert client.get(f"/partner/scorecard/{h.beta.id}", query_string=WEEK).status_code == 200
    assert client.get(f"/partner/scorecard/{h.alpha.id}").status_code == 404
    assert client.get("/manager/").status_code == 403


def test_trends_draw_an_svg_chart_beside_the_numbers(client, auth, at_report_time):
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/trends", period="custom", **{"from": "2026-01-05",
                                                                "to": "2026-01-18"})  # fmt: skip
    chart = body[body.index('<svg class="chart"') : body.index("</figure>")]
    assert "<polyline" in chart and "<script" not in chart  # drawn by the server, no script
    assert "Accepted, 5 Jan: 72.7%" in body  # 8 of 11, also in the point's title
    weeks = body.split("Week by week")[1]
    assert "5 Jan 2026" in weeks and "12 Jan 2026" in weeks


def test_source_quality_page_and_its_formula_safe_csv(client, auth, at_report_time):
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/sources", **WEEK)
    assert "=1+2" in body and "12.5%" in body  # web/spring: 1 of 8 rejected
    response = client.get("/manager/export/sources.csv", query_string=WEEK)
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["Source", "Campaign", "Leads"]
    fair = next(r for r in rows if r[0] == "fair")
    assert fair[1] == "'=1+2" and fair[2] == "4"


def test_every_table_downloads_as_xlsx(client, auth, at_report_time):
    h = at_report_time
    auth.login("manager@acme.example.com")
    for report, params in (
        ("groups", {}),
        ("reasons", {}),
        ("weekly", {}),
        ("sources", {}),
        ("leads", {"group": "partner", "key": h.alpha.id, "figure": "accepted"}),
    ):
        response = client.get(f"/manager/export/{report}.xlsx", query_string=WEEK | params)
        assert response.status_code == 200, report
        sheet = load_workbook(io.BytesIO(response.data)).active
        values = list(sheet.values)
        assert len(values) > 1, report
        if report == "groups":
            alpha = next(v for v in values if v[0] == "Alpha")
            assert alpha[4:7] == (True, 6, 4) or alpha[4:7] == ("yes", 6, 4)
        if report == "leads":
            assert sorted(v[0] for v in values[1:]) == sorted(
                h.leads[n].id for n in ("a1", "a2", "a5", "a6")
            )


def test_the_leads_download_has_every_column_of_each_hand_over(client, auth, at_report_time):
    h = at_report_time
    auth.login("manager@acme.example.com")
    every = {"group": "total", "key": "all", "figure": "offered"}
    response = client.get("/manager/export/leads.csv", query_string=WEEK | every)
    header, *rows = csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")))
    zone = ZoneInfo(re.search(r"Offered \((.+)\)", header[5]).group(1))
    offered = db.session.scalars(
        select(Assignment).where(Assignment.vendor_id == h.vendor.id).order_by(Assignment.id)
    ).all()

    week = Period(date(2026, 1, 5), date(2026, 1, 11), h.vendor.timezone)

    def shown(value):
        return local_time.moment(value, zone) if value else ""

    expected = [
        [str(a.lead_id), str(a.id), a.partner.name, safe_cell(a.lead.source or ""),
         safe_cell(a.lead.campaign or ""),
         shown(a.offered_at), shown(a.accepted_at), shown(a.first_followup_at), a.status.value,
         a.decline_reason or a.return_reason or a.lost_reason or "",
         "" if a.won_amount_cents is None else str(money(a.won_amount_cents))]
        for a in offered
        if week.start <= a.offered_at < week.end
    ]  # fmt: skip
    assert rows and sorted(rows) == sorted(expected)
    assert any(r[10] for r in rows) and any(r[9] for r in rows)  # a won amount, a reason


def test_exported_cells_that_look_like_formulas_are_neutralized():
    table = Table("t", "T", ["Name", "Leads"])
    table.rows = [["=HYPERLINK(1)", 1], ["+1", 2], ["-2", 3], ["@SUM(A1)", 4], ["plain", -5]]
    rows = list(csv.reader(io.StringIO(render(table, "csv")[0].decode("utf-8").lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert rows[-1][1] == "-5"  # numbers stay numbers
    sheet = load_workbook(io.BytesIO(render(table, "xlsx")[0])).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == ["'=HYPERLINK(1)", "'+1", "'-2", "'@SUM(A1)", "plain"]
    assert all(c.data_type == "s" for c in cells)


def test_exported_cells_keep_markup_as_text_and_drop_what_xml_cannot_hold():
    table = Table("t", "T", ["Name", "Value"])
    table.rows = [["<b>A & B</b>", True], ["bell\x07 rang", None], ["Acme", 2.5]]
    sheet = load_workbook(io.BytesIO(render(table, "xlsx")[0])).active
    assert list(sheet.iter_rows(min_row=2, values_only=True)) == [
        ("<b>A & B</b>", "yes"), ("bell rang", ""), ("Acme", 2.5)
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(render(table, "csv")[0].decode("utf-8").lstrip("\ufeff"))))
    assert rows[1:] == [["<b>A & B</b>", "yes"], ["bell\x07 rang", ""], ["Acme", "2.5"]]


def test_planning_shows_where_capacity_runs_out(client, auth, world, at_report_time):
    h = at_report_time
    for partner in (h.alpha, h.beta, h.gamma):
        partner.open_lead_cap = 1  # held about 1.07 days: room for ~85 accepted leads a month
    db.session.commit()
    auth.login("manager@acme.example.com")
    body = page(client, "/manager/planning")
    assert 'name="close_rate"' in body
    params = {"monthly_target": "10000", "average_deal": "1000", "close_rate": "50",
              "accept_rate": "50", "handover_rate": "100", "months": "4",
              "monthly_growth": "100"}  # fmt: skip
    body = page(client, "/manager/planning", **params)
    # 10 deals -> 20 accepted -> 40 handed -> 40 leads, doubling every month
    head, rest, _ = row_of(body.split("Leads needed per month")[1], "January 2026")
    assert [c.split(">")[-1] for c in rest.split("</td>")[1:5]] == ["10", "20", "40", "40"]
    assert "capacity runs out in <strong>April 2026</strong>: 160 accepted leads" in body
    download = client.get("/manager/export/plan.xlsx", query_string=params)
    assert len(list(load_workbook(io.BytesIO(download.data)).active.values)) == 5


def test_a_vendor_admin_is_not_a_manager(client, auth, world, at_report_time):
    world.user(Role.VENDOR_ADMIN, at_report_time.vendor, email="admin@acme.example.com")
    auth.login("admin@acme.example.com")
    assert client.get("/manager/").status_code == 403


def test_the_weekly_digest_reaches_the_managers_inbox(app, runner, history):
    from tests.connectors.outbound_peers import SmtpInbox

    with SmtpInbox() as inbox, clock.frozen_at(REPORT_AT.replace(day=13)):
        app.config["SMTP_URL"] = f"smtp://127.0.0.1:{inbox.port}"
        result = runner.invoke(args=["reports", "digest"])
        assert result.exit_code == 0, result.output
        assert "acme: delivered (manager@acme.example.com)" in result.output
        (mail,) = inbox.messages
    assert mail["To"] == "manager@acme.example.com"
    assert mail["Subject"] == "Partner follow-up, week of 5 Jan: 2 partners need attention"
    text = mail.get_content()
    assert "week 5 Jan 2026 – 11 Jan 2026 (America/New_York)" in text
    assert "This week: 11 offered, 72.7% accepted" in text
    assert "- Alpha: 1 expired, 1 without a follow-up in time, of 6 offered" in text
    assert "- Gamma: 0 expired, 1 without a follow-up in time, of 2 offered" in text
    assert "Beta:" not in text.split("Busiest")[0]
    assert "/manager/?period=custom&from=2026-01-05&to=2026-01-11" in text


def test_the_digest_is_logged_without_a_relay(app, runner, history, caplog):
    app.config["SMTP_URL"] = None
    with clock.frozen_at(REPORT_AT):
        result = runner.invoke(args=["reports", "digest", "--vendor", "acme"])
    assert result.exit_code == 0 and "acme: logged" in result.output
