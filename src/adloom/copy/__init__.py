"""Copy: the rules ad text must meet, how platforms count it, search ads, verdicts.

textlen    length of copy as each platform counts it (graphemes, full-width)
lint       the copy rules per placement
rsa        responsive search ads: headlines and descriptions as sets
verdict    one verdict per variant from the lint findings
languages  the languages adloom writes, and their names
"""

__all__ = [
    "languages",
    "lint",
    "rsa",
    "textlen",
    "verdict",
]
