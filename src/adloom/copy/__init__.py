"""Copy: the rules ad text must meet, how platforms count it, search ads, verdicts.

textlen    length of copy as each platform counts it (graphemes, full-width)
lint       the copy rules per placement
rulepacks  Japan's advertising rules (景品表示法, 薬機法, Yahoo!'s symbols), as data
terms      finding words and terms in copy (folding, word boundaries per script)
platforms  one table per ad platform: its name, rules, utm_medium and upload files
rsa        responsive search ads: headlines and descriptions as sets
verdict    one verdict per variant from the lint findings
languages  the languages adloom writes, and their names
"""

__all__ = [
    "languages",
    "lint",
    "platforms",
    "rsa",
    "rulepacks",
    "terms",
    "textlen",
    "verdict",
]
