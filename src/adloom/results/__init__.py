"""Learning from what ran (docs/results.md).

``adloom results OUT REPORT…`` reads the platforms' performance reports
(``reports``, ``columns``, ``numbers``), joins each row to the run's ads by ad name or
``utm_content`` (``join``), judges what won with honest statistics (``stats``,
``analysis``) and writes ``results.json`` (``store``), the Results sheet (``sheet``),
the results page (``page``) and the style guide (``styleguide``); ``command`` ties
them together. ``adloom run --learn-from OUT`` and a review round on a folder with
results write the next round from them (``learn``).
"""
