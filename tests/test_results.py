"""adloom results: reports in every supported format, joined to a real run's ads, and
the statistics checked against independent computations (scipy)."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from scipy import integrate, stats

from adloom.errors import ExitCode
from adloom.results.numbers import parse_number
from adloom.results.reports import read_report
from adloom.results.stats import (
    REACH,
    Counts,
    decide,
    probability_best,
    spearman,
    trials_to_separate,
    wilson,
)
from briefs import with_excel_extension, write_brief
from reports import generic_csv, google_csv, google_csv_ja, meta_csv, meta_xlsx_ja, yahoo_csv
from test_cli import run_cli, run_json

CAMPAIGN = {"name": "Spring Launch", "brand": "Lumen", "provider": "draft", "variants": 3,
            "languages": "en", "placements": "meta_feed, google_rsa"}  # fmt: skip
BRIEF = {
    "id": "cold-brew",
    "product": "Cold Brew Kit",
    "message": "Smooth coffee, zero effort",
    "benefits": "Brews overnight; Half the acidity; Glass carafe included",
    "cta": "Shop now",
    "landing_url": "https://example.com/cold-brew",
}
P = "spring-launch_cold-brew_general_en"
META = [f"{P}_meta_feed_v{v}" for v in (1, 2, 3)]
RSA = [f"{P}_google_rsa_v{v}" for v in (1, 2, 3)]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft run's out folder, made once; each test works on a copy."""
    root = tmp_path_factory.mktemp("run")
    brief = write_brief(root / "brief.xlsx", CAMPAIGN, [BRIEF])
    code, _, text = run_json("run", brief, "--out", root / "out")
    assert code == ExitCode.OK, text
    return root / "out"


@pytest.fixture
def out(made: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(made, copy)
    return copy


def urls(out: Path) -> dict[str, str]:
    ws = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header = [c.value for c in ws[1]]
    at = header.index("landing_url")
    return {row[0]: row[at] for row in ws.iter_rows(min_row=2, values_only=True)}


def results(out: Path, *reports: Path | str) -> tuple[int, dict[str, Any], str]:
    return run_json("results", out, *reports, "--json")


# ---------------------------------------------------------------- formats and joins


def test_meta_and_google_reports_join_by_name_and_utm_content(out: Path, tmp_path: Path) -> None:
    link = urls(out)
    meta = meta_csv(tmp_path / "meta.csv", [
        (META[0], 20000, 800, 40, 100.0),
        (META[1], 20000, 400, 10, 100.0),
        (META[2], 20000, 420, 12, 100.0),
        ("autumn_sale_v1", 5000, 50, 0, 20.0),  # another campaign's ad
    ])  # fmt: skip
    google = google_csv(tmp_path / "google.csv", [
        (link[RSA[0]], 6000, 180, 3, 50.0),
        (link[RSA[1]], 6000, 181, 4, 50.0),
        (link[RSA[2]], 6000, 179, 2, 50.0),
        ("https://example.com/cold-brew", 10, 1, 0, 0.1),  # utm_content stripped
    ])  # fmt: skip
    code, data, text = results(out, meta, google)
    assert code == ExitCode.OK, text
    assert [(r["platform"], r["rows"], r["totals_rows"]) for r in data["reports"]] == [
        ("meta", 4, 0),
        ("google", 4, 2),  # the title and date lines are not rows; the totals are left out
    ]
    assert data["rows"] == 8
    assert data["matched"] == 6
    assert data["matched_by"] == {"ad_name": 3, "utm_content": 3}
    unmatched = {u["where"]: u["why"] for u in data["unmatched"]}
    assert unmatched == {
        "meta.csv!5": 'ad name "autumn_sale_v1" is not an ad of this run',
        "google.csv!7": "no ad name, and its URL has no utm_content (was the URL changed?)",
    }
    for name in ("results.json", "results.html", "style-guide.md"):
        assert (out / name).is_file()
    assert "Results" in openpyxl.load_workbook(out / "variants.xlsx", read_only=True).sheetnames
    assert not (out / "results.xlsx").exists()  # only when the workbook cannot take the sheet


def test_japanese_headers_yen_and_totals_rows(out: Path, tmp_path: Path) -> None:
    meta = meta_xlsx_ja(tmp_path / "meta-ja.xlsx", [
        (META[0], 12000, 600, 30, 1200),
        (META[1], 12000, 300, 0, 1300),
        (META[2], 900, 9, 0, 90),
    ])  # fmt: skip
    yahoo = yahoo_csv(tmp_path / "yahoo.csv", [
        (RSA[0], 3000, 90, 2, 4500),
        (RSA[1], 3000, 60, 1, 4500),
        ("存在しない広告", 100, 1, 0, 100),
    ])  # fmt: skip
    code, data, text = results(out, meta, yahoo)
    assert code == ExitCode.OK, text
    assert [(r["platform"], r["rows"], r["totals_rows"]) for r in data["reports"]] == [
        ("meta", 3, 1),
        ("yahoo", 3, 1),
    ]
    assert data["matched"] == 5
    assert [u["where"] for u in data["unmatched"]] == ["yahoo.csv!6"]
    stored = (out / "results.json").read_text(encoding="utf-8")
    assert '"cost": 1200.0' in stored  # ￥1,200 as yen, not 1.2
    assert '"cost": 4500.0' in stored  # ¥4,500 in Shift_JIS


def test_google_japanese_ad_report_joins_by_its_final_url(out: Path, tmp_path: Path) -> None:
    link = urls(out)
    google = google_csv_ja(tmp_path / "google-ja.csv", [
        (link[RSA[0]], 4000, 120, 3, 9600),
        (link[RSA[1]], 4000, 80, 0, 8800),
    ])  # fmt: skip
    code, data, text = results(out, google)
    assert code == ExitCode.OK, text
    assert data["reports"][0]["platform"] == "google"
    assert data["matched_by"] == {"ad_name": 0, "utm_content": 2}
    stored = json.loads((out / "results.json").read_text(encoding="utf-8"))["ads"]
    assert stored[RSA[0]] == {"impressions": 4000, "clicks": 120, "conversions": 3.0,
                              "cost": 9600.0}  # fmt: skip


def test_meta_japanese_link_clicks_spelled_without_no(out: Path, tmp_path: Path) -> None:
    """リンククリック, as some Japanese exports (and tools reading them) spell it."""
    report = generic_csv(
        tmp_path / "meta-ja.csv",
        ["広告名", "インプレッション", "リンククリック", "結果", "消化金額 (JPY)"],
        [[META[0], "2,000", "40", "1", "￥1,200"], [META[1], "2,000", "20", "", "￥1,100"]],
    )
    code, data, text = results(out, report)
    assert code == ExitCode.OK, text
    assert data["reports"][0]["platform"] == "meta"
    stored = json.loads((out / "results.json").read_text(encoding="utf-8"))["ads"]
    assert stored[META[0]]["clicks"] == 40


def test_generic_csv_with_a_column_mapping_and_european_numbers(out: Path, tmp_path: Path) -> None:
    report = generic_csv(
        tmp_path / "export.csv",
        ["Creative", "Views", "Taps", "Sales", "Spend (EUR)", "Customer email"],
        [
            [META[0], "12.345", "1.234", "12,5", "1 234,50 €", "a@example.com"],
            [META[1], "12.345", "617", "3", "1.234,50", "b@example.com"],
        ],
    )
    code, _, text = results(out, report)
    assert code == ExitCode.BAD_INPUT  # no known header: the mapping is asked for
    assert "--column" in text
    code, data, text = run_json(
        "results", out, report, "--json",
        "--column", "ad_name=Creative", "--column", "impressions=Views",
        "--column", "clicks=Taps", "--column", "conversions=Sales", "--column", "cost=Spend",
    )  # fmt: skip
    assert code == ExitCode.OK, text
    assert data["matched"] == 2
    assert data["reports"][0]["ignored_columns"] == ["Customer email"]
    stored = (out / "results.json").read_text(encoding="utf-8")
    assert "example.com" not in stored  # personal data is never read
    assert '"impressions": 12345' in stored
    assert '"clicks": 1234' in stored
    assert '"conversions": 12.5' in stored
    assert '"cost": 1234.5' in stored


@pytest.mark.parametrize(
    ("text", "count", "value"),
    [
        ("1,234", True, 1234),
        ("1.234", True, 1234),
        ("12.3%", False, 12.3),
        ("¥1,200", False, 1200),
        ("￥１，２００", False, 1200),
        ("1 234,5", False, 1234.5),
        ("1\u202f234,5", False, 1234.5),
        ("1.234.567,89", False, 1234567.89),
        ("1,234,567.89", False, 1234567.89),
        ("$0.123", False, 0.123),
        ("0,123", False, 0.123),
        ("12,5", False, 12.5),
        ("JPY 1200", False, 1200),
        ("--", True, 0),
        ("", True, 0),
    ],
)
def test_numbers_as_locales_write_them(text: str, count: bool, value: float) -> None:
    assert parse_number(text, count=count) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "count", "why"),
    [("12.5", True, "whole"), ("-3", True, "negative"), ("=1+1", True, "not a number")],
)
def test_numbers_refused(text: str, count: bool, why: str) -> None:
    found = parse_number(text, count=count)
    assert isinstance(found, str)
    assert why in found


def test_a_bad_cell_is_named_and_nothing_is_written(out: Path, tmp_path: Path) -> None:
    report = meta_csv(tmp_path / "meta.csv", [(META[0], 1000, 10, 0, 1.0)])
    text = report.read_text(encoding="utf-8-sig").replace('"1,000"', "lots")
    report.write_text(text, encoding="utf-8-sig")
    code, _, said = results(out, report)
    assert code == ExitCode.BAD_INPUT
    assert 'meta.csv!G2: "lots" is not a number' in said
    assert not (out / "results.json").exists()


def test_the_same_report_twice_is_refused(out: Path, tmp_path: Path) -> None:
    report = meta_csv(tmp_path / "meta.csv", [(META[0], 1000, 10, 0, 1.0)])
    shutil.copy(report, tmp_path / "again.csv")
    code, _, said = results(out, report, tmp_path / "again.csv")
    assert code == ExitCode.BAD_INPUT
    assert "the same report as meta.csv" in said


# ---------------------------------------------------------------- what won


def test_one_clear_winner_and_one_tie(out: Path, tmp_path: Path) -> None:
    link = urls(out)
    meta = meta_csv(tmp_path / "meta.csv", [
        (META[0], 20000, 800, 40, 100.0),  # CTR 4%
        (META[1], 20000, 400, 10, 100.0),  # 2%
        (META[2], 20000, 420, 12, 100.0),  # 2.1%
    ])  # fmt: skip
    google = google_csv(tmp_path / "google.csv", [
        (link[RSA[0]], 6000, 180, 3, 50.0),  # 3.00%
        (link[RSA[1]], 6000, 181, 4, 50.0),  # 3.02%
        (link[RSA[2]], 6000, 179, 2, 50.0),  # 2.98%
    ])  # fmt: skip
    code, data, text = results(out, meta, google)
    assert code == ExitCode.OK, text
    meta_slot, rsa_slot = (
        f"cold-brew / general / en / {'meta_feed'}",
        "cold-brew / general / en / google_rsa",
    )
    assert data["winners"][meta_slot]["ctr"] == META[0]
    assert data["winners"][rsa_slot]["ctr"] is None
    assert data["verdicts"][rsa_slot]["ctr"].startswith("not significant")
    tie = data["verdicts"][rsa_slot]["ctr"]
    # 3.02% against 3.00% would take some 16 million more impressions each: no guide to
    # anything, so the verdict says the two are level at this traffic instead.
    assert "are level at this traffic" in tie
    assert "more than 10 times the impressions they have had" in tie
    assert "more impressions each" not in tie

    # The sheet's intervals against scipy's Wilson interval, computed independently.
    ws = openpyxl.load_workbook(out / "variants.xlsx")["Results"]
    header = [c.value for c in ws[1]]
    rows = [dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)]
    checked = 0
    for row in rows:
        if row["kind"] == "slot":
            ci = stats.binomtest(row["clicks"], row["impressions"]).proportion_ci(
                0.95, method="wilson"
            )
            assert row["ctr_low"] == pytest.approx(ci.low, abs=1e-12)
            assert row["ctr_high"] == pytest.approx(ci.high, abs=1e-12)
            checked += 1
    assert checked == 6
    winner = next(r for r in rows if r["contender"] == f"{META[0]} (winner)")
    assert winner["p_best_ctr"] > 0.99
    html = (out / "results.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 4  # CTR and conversion rate, per slot at least
    assert "not significant" in html


def pictures(path: Path) -> tuple[int, int]:
    """The pictures placed in the thumbnail column (T) of the workbook's drawings, and
    its image files."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        drawings = b"".join(
            archive.read(n) for n in names if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)
        )
        placed = re.findall(rb"<(?:\w+:)?from><(?:\w+:)?col>19<.*?<(?:\w+:)?pic>", drawings)
        return len(placed), sum(1 for n in names if n.startswith("xl/media/"))


def test_the_results_sheet_goes_into_the_workbook_as_marked_up(
    made: Path, out: Path, tmp_path: Path
) -> None:
    workbook = out / "variants.xlsx"
    book = openpyxl.load_workbook(workbook)  # a reviewer's marks, before the results come in
    ws = book["Variants"]
    header = [c.value for c in ws[1]]
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}
    ws.cell(row=row_of[META[0]], column=header.index("approval") + 1).value = "Approved"
    ws.cell(row=row_of[META[1]], column=header.index("notes") + 1).value = "Try the carafe"
    ws.cell(row=1, column=len(header) + 1).value = "owner"  # a column of the team's own
    ws.cell(row=row_of[META[0]], column=len(header) + 1).value = "Aiko"
    book.save(workbook)
    before = pictures(workbook)
    assert before == (3, 3)  # a thumbnail per Meta ad (search ads have none)
    meta = meta_csv(tmp_path / "meta.csv", [
        (META[0], 20000, 800, 40, 100.0),
        (META[1], 20000, 400, 10, 100.0),
    ])  # fmt: skip

    for _ in range(2):  # a second reading replaces the sheet, never adds one
        code, data, text = results(out, meta)
        assert code == ExitCode.OK, text
        assert data["results_sheet"] == {"file": "variants.xlsx", "why_apart": ""}
        assert pictures(workbook) == before
        book = openpyxl.load_workbook(workbook)
        assert book.sheetnames == ["Variants", "Search ads", "Summary", "Results"]
    ws = book["Variants"]
    assert ws.cell(row=row_of[META[0]], column=header.index("approval") + 1).value == "Approved"
    assert ws.cell(row=row_of[META[1]], column=header.index("notes") + 1).value == "Try the carafe"
    assert ws.cell(row=row_of[META[0]], column=len(header) + 1).value == "Aiko"
    assert ws.column_dimensions["U"].hidden  # the generated fingerprints stay hidden
    assert ws.data_validations.dataValidation  # and the approval drop-down stays
    sheet = book["Results"]
    head = [c.value for c in sheet[1]]
    lines = {
        r[2]: dict(zip(head, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    }
    first = lines[f"{META[0]} (winner)"]
    assert (first["impressions"], first["clicks"], first["conversions"]) == (20000, 800, 40)
    assert first["ctr"] == pytest.approx(0.04)
    assert first["cost_per_result"] == pytest.approx(2.5)
    assert lines[META[1]]["ctr"] == pytest.approx(0.02)
    assert not (out / "results.xlsx").exists()

    code, summary, text = run_json(  # the next round reads it
        "review", workbook, "--brief", made.parent / "brief.xlsx", "--json"
    )
    assert code == ExitCode.OK, text
    assert summary["review"]["approved"] == 1
    round2 = openpyxl.load_workbook(out / "variants-round-2.xlsx")["Variants"]
    approvals = {
        r[0]: r[header.index("approval")] for r in round2.iter_rows(min_row=2, values_only=True)
    }
    assert approvals[META[0]] == "Approved"


def test_a_workbook_holding_what_a_rewrite_would_lose_is_left_alone(
    out: Path, tmp_path: Path
) -> None:
    """Excel keeps newer data validations in an extension list openpyxl drops: the
    workbook stays byte for byte as it was, and the sheet goes to results.xlsx."""
    workbook = out / "variants.xlsx"
    extended = with_excel_extension(workbook, tmp_path / "extended.xlsx", "xl/worksheets/sheet1.")
    shutil.copyfile(extended, workbook)
    meta = meta_csv(tmp_path / "meta.csv", [(META[0], 2000, 80, 4, 10.0),
                                            (META[1], 2100, 40, 1, 10.0)])  # fmt: skip
    code, data, text = results(out, meta)
    assert code == ExitCode.OK, text
    assert workbook.read_bytes() == extended.read_bytes()
    why = data["results_sheet"]["why_apart"]
    assert data["results_sheet"]["file"] == "results.xlsx"
    assert "1 Excel extension(s)" in why
    assert why in text  # warned on the terminal too
    ws = openpyxl.load_workbook(out / "results.xlsx")["Results"]
    assert {r[3] for r in ws.iter_rows(min_row=2, values_only=True)} >= {2000, 2100}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def links(page: Path) -> list[str]:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.hrefs


def test_the_preview_and_the_results_page_link_each_other(out: Path, tmp_path: Path) -> None:
    # A second index page, as a campaign of over 1,000 briefs has (test_preview_pages).
    shutil.copyfile(out / "index.html", out / "index-2.html")
    with (out / ".adloom-pages").open("a", encoding="utf-8") as manifest:
        manifest.write("index-2.html\n")
    assert "results.html" not in links(out / "index.html")  # no results yet, no link
    meta = meta_csv(tmp_path / "meta.csv", [(META[0], 2000, 80, 4, 10.0),
                                            (META[1], 2100, 40, 1, 10.0)])  # fmt: skip
    for _ in range(2):  # read twice: still one link
        code, data, text = results(out, meta)
        assert code == ExitCode.OK, text
        assert data["warnings"] == []
        for index in ("index.html", "index-2.html"):
            assert links(out / index).count("results.html") == 1, index
    assert "index.html" in links(out / "results.html")
    assert "preview/brief-001-cold-brew.html" in links(out / "index.html")  # the rest as it was


def test_an_index_template_without_the_place_for_the_link_is_said(
    made: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(made, out)
    page = (out / "index.html").read_text(encoding="utf-8")
    page = page.replace("<!--adloom:results-->", "").replace("<!--/adloom:results-->", "")
    (out / "index.html").write_text(page, encoding="utf-8")
    meta = meta_csv(tmp_path / "meta.csv", [(META[0], 2000, 80, 4, 10.0)])
    code, data, text = results(out, meta)
    assert code == ExitCode.OK, text
    assert (out / "index.html").read_text(encoding="utf-8") == page  # left as it is
    assert any("index.html: no place for a link to results.html" in w for w in data["warnings"])


def test_too_little_data_says_how_much_more(out: Path, tmp_path: Path) -> None:
    meta = meta_csv(tmp_path / "meta.csv", [
        (META[0], 400, 30, 0, 1.0),
        (META[1], 600, 10, 0, 1.0),
    ])  # fmt: skip
    code, data, text = results(out, meta)
    assert code == ExitCode.OK, text
    said = data["verdicts"]["cold-brew / general / en / meta_feed"]["ctr"]
    assert said.startswith("not enough data yet")
    assert "about 600 more impressions each" in said  # 1,000 - 400


def test_how_much_more_is_named_only_within_reach() -> None:
    near = decide({"a": Counts(5000, 170), "b": Counts(5000, 150)}, "ctr")
    assert near.more == 25_387  # the docs' example (docs/results.md)
    assert "about 25,387 more impressions each would tell the top two apart" in near.said
    level = decide({"a": Counts(6000, 181), "b": Counts(6000, 180)}, "ctr")
    assert level.more is None
    assert "(3.02% and 3.00%) are level at this traffic" in level.said
    assert not re.search(r"\d{1,3}(,\d{3}){2,}", level.said)  # no figure in the millions
    # The line is REACH times what the less tried of the two has had, on either side.
    sides = set()
    for clicks in range(150, 200):
        verdict = decide({"a": Counts(5000, clicks), "b": Counts(4000, 150)}, "ctr")
        if verdict.winner is None:
            needed = trials_to_separate(clicks / 5000, 150 / 4000)
            assert needed is not None
            assert (verdict.more is not None) == (needed <= REACH * 4000), clicks
            if verdict.more is not None:
                assert verdict.more == needed - 4000
            sides.add(verdict.more is None)
    assert sides == {True, False}


def test_wilson_matches_scipy() -> None:
    for k, n in ((0, 10), (3, 10), (10, 10), (57, 1234), (800, 20000)):
        ours = wilson(k, n)
        ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (ours.low, ours.high) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_probability_best_matches_integration() -> None:
    """P(A > B) for two Beta posteriors is an integral; the Monte Carlo agrees with it."""
    a, b = wilson(180, 6000), wilson(160, 6000)
    pa = stats.beta(1 + 180, 1 + 6000 - 180)
    pb = stats.beta(1 + 160, 1 + 6000 - 160)
    exact, _ = integrate.quad(lambda x: pa.pdf(x) * pb.cdf(x), 0, 0.1, limit=200)
    ours = probability_best([a, b])
    assert ours[0] == pytest.approx(exact, abs=0.01)  # 20,000 draws: ~0.003 standard error
    assert probability_best([a, b]) == ours  # the fixed seed: the same answer every time


def test_a_winner_needs_both_the_probability_and_the_minimum() -> None:
    clear = {"a": Counts(20000, 800), "b": Counts(20000, 400)}
    assert decide(clear, "ctr").winner == "a"
    small = {"a": Counts(900, 90), "b": Counts(900, 9)}  # separated, under 1,000 each
    verdict = decide(small, "ctr")
    assert verdict.winner is None
    assert verdict.more == 100


def test_spearman_matches_scipy() -> None:
    xs = [4.5, 3.0, 3.0, 2.0, 5.0, 1.5]
    ys = [0.031, 0.02, 0.025, 0.01, 0.04, 0.012]
    assert spearman(xs, ys) == pytest.approx(stats.spearmanr(xs, ys).statistic, abs=1e-12)
    assert spearman([1, 2], [2, 1]) is None


def test_judge_scores_against_observed_ctr(tmp_path: Path) -> None:
    brief = write_brief(tmp_path / "brief.xlsx", {**CAMPAIGN, "score": "true"}, [BRIEF])
    out = tmp_path / "out"
    code, _, text = run_json("run", brief, "--out", out)
    assert code == ExitCode.OK, text
    ws = openpyxl.load_workbook(out / "variants.xlsx")["Variants"]
    header = [c.value for c in ws[1]]
    scores = {r[0]: r[header.index("score")] for r in ws.iter_rows(min_row=2, values_only=True)}
    clicks = dict(zip([*META, *RSA], (900, 400, 420, 180, 181, 30), strict=True))
    report = generic_csv(
        tmp_path / "all.csv",
        ["ad_name", "impressions", "clicks"],
        [[name, 20000, n] for name, n in clicks.items()],
    )
    code, data, text = results(out, report)
    assert code == ExitCode.OK, text
    names = [*META, *RSA]
    expected = stats.spearmanr([scores[n] for n in names], [clicks[n] for n in names]).statistic
    assert data["judge"]["ads"] == 6
    assert data["judge"]["spearman"] == pytest.approx(expected, abs=1e-12)
    html = (out / "results.html").read_text(encoding="utf-8")
    assert "Spearman rank correlation" in html


def test_what_the_terminal_says(out: Path, tmp_path: Path) -> None:
    meta = meta_csv(tmp_path / "meta.csv", [
        (META[0], 20000, 800, 40, 100.0),
        (META[1], 20000, 400, 10, 100.0),
        ("autumn_sale_v1", 5000, 50, 0, 20.0),
    ])  # fmt: skip
    code, said, err = run_cli("results", out, meta)
    assert code == ExitCode.OK, err
    assert "meta.csv: meta report, 3 rows" in said
    assert "2 of 3 rows matched an ad (2 by ad name, 0 by utm_content); 1 did not" in said
    assert 'meta.csv!4: not matched: ad name "autumn_sale_v1" is not an ad of this run' in err
    assert f"{META[0]} has the best CTR" in said


def test_an_ad_named_like_a_totals_row_is_read(tmp_path: Path) -> None:
    report = generic_csv(
        tmp_path / "r.csv",
        ["ad_name", "impressions", "clicks"],
        [["total-care_v1", "100", "1"], ["Total: Account", "100", "1"], ["合計", "", ""]],
    )
    read = read_report(report)
    assert [row.ad_name for row in read.rows] == ["total-care_v1"]
    assert read.totals == 2
