"""The period report as files: Markdown (with a PNG chart beside it), CSV and xlsx.

openpyxl and matplotlib are imported inside the functions that use them: the service never
loads them, only the commands that write reports.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from handlers.core.cells import markdown_cell, spreadsheet_safe
from handlers.core.labels import CASE_TYPES, CHANNELS
from handlers.core.texts import Texts
from handlers.reporting.tally import Table, number, tables


def _text(value: Any) -> str:
    """A table cell as the institution writes it: thousands with a comma, one decimal; a text
    that a spreadsheet would run as a formula is neutralised."""
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return number(value, 1)
    return str(spreadsheet_safe(str(value)))


def _cell(value: Any) -> str:
    return markdown_cell(_text(value))


def render_markdown(t: Texts, tally: dict[str, Any], chart_name: str | None = None) -> str:
    """The tables as Markdown, the narrative first and the chart's image when there is one."""
    period = tally["period"]
    lines = [
        f"# {t('report.title', label=period['label'])}",
        "",
        t("report.range", start=period["start"], end=period["end"], tz=period["timezone"]),
        "",
        tally["narrative"],
        "",
    ]
    if chart_name:
        lines += [f"![{t('report.chart_title')}]({chart_name})", ""]
    for table in tables(t, tally):
        headers = " | ".join(map(markdown_cell, table.headers))
        lines += [f"## {markdown_cell(table.title)}", "", f"| {headers} |"]
        lines.append("|" + "---|" * len(table.headers))
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
        lines.append("")
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    """A CSV cell: numbers as numbers a spreadsheet reads (1303, 81.2), text neutralised."""
    if isinstance(value, int | float):
        return value
    return spreadsheet_safe(str(value))


def render_csv(t: Texts, tally: dict[str, Any]) -> str:
    """Every cell of every table as one row of the same four columns (table, row, column,
    value): one header for the whole file, so a spreadsheet or a script reads it as a list."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [t("report.col.table"), t("report.col.row"), t("report.col.column"), t("report.col.value")]
    )
    for table in tables(t, tally):
        for row in table.rows:
            for header, value in zip(table.headers[1:], row[1:], strict=True):
                writer.writerow(map(_plain, (table.title, row[0], header, value)))
    return out.getvalue()


def _received_series(tally: dict[str, Any]) -> tuple[list[str], dict[str, list[int]]]:
    by = tally["received"]["by_channel_type"]
    channels = [channel for channel in CHANNELS if channel in by] or ["whatsapp"]
    return channels, {
        case_type: [by.get(channel, {}).get(case_type, 0) for channel in channels]
        for case_type in CASE_TYPES
    }


def chart_png(t: Texts, title: str, labels: list[str], series: dict[str, list[int]]) -> bytes:
    """A stacked bar chart as PNG bytes (matplotlib's Agg backend: no display needed)."""
    buffer = io.BytesIO()
    chart_figure(t, title, labels, series).savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(t: Texts, title: str, labels: list[str], series: dict[str, list[int]]):
    """The stacked bar chart, drawn (a matplotlib Figure)."""
    from matplotlib.figure import Figure  # lazy: only report commands draw
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.subplots()
    bottom = [0] * len(labels)
    for name, values in series.items():
        axes.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_title(title)
    axes.set_ylabel(t("report.col.cases"))
    # Cases are whole and never negative, even in a period with none (matplotlib would draw
    # an axis from -0.04 to 0.04 then).
    axes.set_ylim(bottom=0, top=1.1 * max([1, *bottom]))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(fontsize="small")
    figure.tight_layout()
    return figure


def chart_title(t: Texts, tally: dict[str, Any]) -> str:
    """ "Casos recibidos por canal y tipo, periodo 2026-T3", and the institution below."""
    title = t("report.chart_title_period", label=tally["period"]["label"])
    institution = tally.get("institution")
    return f"{title}\n{institution}" if institution else title


def received_chart(t: Texts, tally: dict[str, Any]) -> bytes:
    """Received cases by channel, stacked by type."""
    channels, series = _received_series(tally)
    labels = [t(f"labels.channel.{channel}") for channel in channels]
    return chart_png(t, chart_title(t, tally), labels, series)


def _sheet_title(title: str, taken: set[str]) -> str:
    name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]
    while name in taken:
        name = name[:29] + str(len(taken))
    taken.add(name)
    return name


PERCENT_ROWS = ("pct_within_deadline",)


def xlsx_bytes(t: Texts, tally: dict[str, Any]) -> bytes:
    """One sheet per table with numbers as numbers (percentages as percentages), bold headers
    and readable widths; a summary sheet first with the title, the narrative wrapped, and the
    chart of the received cases by channel and type."""
    from openpyxl import Workbook  # lazy: only `tally --format xlsx` needs it
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    summary = book.active
    taken: set[str] = set()
    summary.title = _sheet_title(t("report.sheet_summary"), taken)
    period = tally["period"]
    summary.append([spreadsheet_safe(t("report.title", label=period["label"]))])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(
        [t("report.range", start=period["start"], end=period["end"], tz=period["timezone"])]
    )
    summary.append([spreadsheet_safe(tally["narrative"])])
    summary.column_dimensions["A"].width = 110
    summary["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    # A row tall enough for the wrapped narrative (about 120 characters a line, 15 points each).
    summary.row_dimensions[3].height = 15 * (len(tally["narrative"]) // 110 + 2)
    percent_names = {t(f"report.row.{key}") for key in PERCENT_ROWS}
    for index, table in enumerate(tables(t, tally)):
        sheet = book.create_sheet(_sheet_title(table.title, taken))
        sheet.append([spreadsheet_safe(header) for header in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            if row[0] in percent_names and isinstance(row[1], int | float):
                row = (row[0], row[1] / 100)
            sheet.append([spreadsheet_safe(value) for value in row])
            for cell in sheet[sheet.max_row]:
                if row[0] in percent_names and isinstance(cell.value, float):
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, int):
                    cell.number_format = "#,##0"
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.0"
        _fit_widths(sheet)
        if index == 0 and len(table.rows) > 1:
            _add_chart(t, tally, summary, sheet, table, BarChart, Reference)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _fit_widths(sheet: Any) -> None:
    """Each column as wide as its longest value (within reason)."""
    for column in sheet.columns:
        longest = max(len(str(cell.value)) for cell in column if cell.value is not None)
        sheet.column_dimensions[column[0].column_letter].width = min(max(longest + 2, 10), 60)


def _add_chart(
    t: Texts, tally: dict[str, Any], summary: Any, sheet: Any, table: Table, bar_chart, reference
) -> None:
    """The received cases by channel and type, drawn from the "Recibidos" sheet and shown on
    the summary sheet, under the narrative."""
    chart = bar_chart()
    chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
    chart.title = chart_title(t, tally).replace("\n", " — ")
    chart.y_axis.title = t("report.col.cases")
    chart.width, chart.height = 22, 10
    last_row = len(table.rows)  # the totals row (the last one) stays out of the chart
    data = reference(sheet, min_col=2, max_col=1 + len(CASE_TYPES), min_row=1, max_row=last_row)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(reference(sheet, min_col=1, min_row=2, max_row=last_row))
    summary.add_chart(chart, "A5")


def render_report(t: Texts, tally: dict[str, Any], fmt: str, chart_name: str | None) -> bytes:
    """The report in `fmt` (json, csv, xlsx or md; md names its chart image when it has one)."""
    import json

    if fmt == "json":
        return (json.dumps(tally, ensure_ascii=False, indent=2) + "\n").encode()
    if fmt == "csv":
        # With a byte-order mark, Excel on Windows reads the file as UTF-8 ("Martínez").
        return render_csv(t, tally).encode("utf-8-sig")
    if fmt == "xlsx":
        return xlsx_bytes(t, tally)
    return render_markdown(t, tally, chart_name).encode()
