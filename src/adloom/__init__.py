"""adloom: ad variants at volume from a spreadsheet brief."""

from __future__ import annotations

from functools import cache

__all__ = ["__version__"]


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("adloom")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


def __getattr__(name: str) -> str:
    # Read from the package metadata on first use only: a command that does not show
    # the version (``adloom validate``) does not pay for the lookup.
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'adloom' has no attribute {name!r}")
