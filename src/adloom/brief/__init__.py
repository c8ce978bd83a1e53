"""The brief: reading a campaign workbook into a typed Campaign.

read        read_campaign: the workbook's sheets into a Campaign, with every problem named by cell
readtables  the Briefs, Placements and Languages tables of the workbook
sheets      cells and sheets: typed values, where each came from, limits on a sheet
inputs      limits on input files (sizes, pixels) checked before they are opened
placements  the shipped placements table (data/placements.json)
"""

__all__ = [
    "inputs",
    "placements",
    "read",
    "readtables",
    "sheets",
]
