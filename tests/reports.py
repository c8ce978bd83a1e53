"""Build platform performance reports for tests, as the platforms export them.

    from reports import meta_csv, google_csv, ...   # tests/ is on sys.path under pytest

Column names are the ones ``adloom.results.columns`` documents for each platform;
each writer adds the quirks of the real export (Google's title and date lines and
its totals rows, UTF-16 tab-separated "Excel CSV", Shift_JIS from Yahoo! JAPAN,
localized numbers, Japanese headers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook

Row = Sequence[object]


def _csv_text(rows: Sequence[Row], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


def meta_csv(path: Path, ads: Sequence[tuple[str, int, int, float, float]]) -> Path:
    """Ads Manager's *Export table data* (CSV, UTF-8 with a BOM): (name, impressions,
    link clicks, results, spent USD)."""
    header = ["Reporting starts", "Reporting ends", "Ad name", "Ad delivery", "Results",
              "Result indicator", "Impressions", "Link clicks", "Amount spent (USD)"]  # fmt: skip
    rows: list[Row] = [header]
    for name, impressions, clicks, results, spent in ads:
        rows.append(["2026-12-01", "2026-12-07", name, "active", _or_blank(results),
                     "actions:offsite_conversion.fb_pixel_purchase", f"{impressions:,}",
                     f"{clicks:,}", f"{spent:,.2f}"])  # fmt: skip
    path.write_text(_csv_text(rows), encoding="utf-8-sig")
    return path


def _or_blank(value: float) -> str:
    return "" if not value else f"{value:g}"


def google_csv(path: Path, ads: Sequence[tuple[str, int, int, float, float]]) -> Path:
    """A Google Ads ads report downloaded as "Excel CSV" (UTF-16, tab separated): a
    title line, a date-range line, the header, (final URL, impr, clicks,
    conversions, cost) rows, then totals rows."""
    rows: list[Row] = [
        ["Ad report"],
        ["December 1, 2026 - December 7, 2026"],
        ["Ad status", "Final URL", "Campaign", "Ad group", "Impr.", "Clicks", "Conversions",
         "Cost", "Currency code"],
    ]  # fmt: skip
    for url, impressions, clicks, conversions, cost in ads:
        rows.append(["Enabled", url, "Spring Launch", "cold-brew", f"{impressions:,}",
                     f"{clicks:,}", f"{conversions:.2f}", f"{cost:,.2f}", "USD"])  # fmt: skip
    total = [sum(int(a[n]) for a in ads) for n in (1, 2)]
    rows.append(["Total: Account", "--", "--", "--", f"{total[0]:,}", f"{total[1]:,}", "--",
                 "--", "USD"])  # fmt: skip
    rows.append(["Total: Search", "--", "--", "--", f"{total[0]:,}", f"{total[1]:,}", "--",
                 "--", "USD"])  # fmt: skip
    path.write_bytes(_csv_text(rows, "\t").encode("utf-16"))
    return path


def google_csv_ja(path: Path, ads: Sequence[tuple[str, int, int, float, int]]) -> Path:
    """Google Ads' ad report from the Japanese UI (CSV, UTF-8 with a BOM), with the
    header public code reproduces (docs/results.md): the report's title and period
    lines, no ad-name column (search ads have none), the final URL twice, its
    suffix column, " --" where there is no value; (final URL, 表示回数, クリック数,
    コンバージョン, 費用 in yen) rows."""
    rows: list[Row] = [
        ["広告のパフォーマンス・日別"],
        ["2026年12月1日 - 2026年12月7日"],
        ["日", "広告の種類", "最終ページ URL", "最終ページ URL のサフィックス", "広告 ID",
         "キャンペーン", "広告グループ", "広告の最終ページ URL", "広告の状態", "クリック数",
         "表示回数", "クリック率", "通貨コード", "費用", "コンバージョン", "コンバージョン単価"],
    ]  # fmt: skip
    for n, (url, impressions, clicks, conversions, cost) in enumerate(ads, start=1):
        per = f"{cost / conversions:,.0f}" if conversions else " --"
        rows.append(["2026-12-01", "レスポンシブ検索広告", url, " --", str(7000 + n), "春",
                     "cold-brew", url, "有効", f"{clicks:,}", f"{impressions:,}",
                     f"{clicks / impressions:.2%}", "JPY", f"{cost:,}", f"{conversions:.2f}",
                     per])  # fmt: skip
    path.write_text(_csv_text(rows), encoding="utf-8-sig")
    return path


def yahoo_csv(path: Path, ads: Sequence[tuple[str, int, int, float, int]]) -> Path:
    """A Yahoo! JAPAN Ads performance report, Japanese headers, Shift_JIS: a report
    name line and a period line above the header, a 合計 row at the end."""
    rows: list[Row] = [
        ["広告レポート"],
        ["集計期間：2026/12/01～2026/12/07"],
        ["キャンペーン名", "広告グループ名", "広告名", "最終リンク先URL", "インプレッション数",
         "クリック数", "コンバージョン数", "コスト"],
    ]  # fmt: skip
    for name, impressions, clicks, conversions, cost in ads:
        rows.append(["春", "cold-brew", name, "", f"{impressions:,}", f"{clicks:,}",
                     f"{conversions:g}", f"￥{cost:,}"])  # fmt: skip
    rows.append(["合計", "", "", "", "", "", "", ""])
    path.write_bytes(_csv_text(rows).encode("cp932"))
    return path


def meta_xlsx_ja(path: Path, ads: Sequence[tuple[str, int, int, float, int]]) -> Path:
    """Ads Manager exported as .xlsx from the Japanese UI: numbers as numbers, the
    spend in yen as text with ￥ (as people paste it), a summary row (合計) first."""
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = "Raw Data Report"
    ws.append(["レポート開始日", "広告の名前", "インプレッション", "リンクのクリック", "結果",
               "消化金額 (JPY)"])  # fmt: skip
    ws.append(["合計", "", sum(a[1] for a in ads), sum(a[2] for a in ads), "", ""])
    for name, impressions, clicks, results, spent in ads:
        ws.append(["2026-12-01", name, impressions, clicks, results or None, f"￥{spent:,}"])
    workbook.save(path)
    return path


def generic_csv(path: Path, header: Sequence[str], rows: Sequence[Row]) -> Path:
    path.write_text(_csv_text([header, *rows]), encoding="utf-8")
    return path
