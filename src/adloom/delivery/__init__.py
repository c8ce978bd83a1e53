"""Delivery: what a run hands over: the workbook, the platforms' uploads, the preview.

workbook   the export workbook (openpyxl)
export     each platform's upload files
platforms  per-platform export writers and their rules
render     the HTML preview (jinja2)
pages      the preview's page files and their names
present    how an ad is shown: labels and ordering shared by preview and exports
cells      cell text safe for spreadsheets (formula-like cells neutralised)
"""

__all__ = [
    "cells",
    "export",
    "pages",
    "platforms",
    "present",
    "render",
    "workbook",
]
