"""Hints such as "did you mean ...?" for names that do not exist (fields, columns, options)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(name: str, candidates: Iterable[str], *, limit: int = 3) -> str:
    """A hint such as ``" (did you mean 'channel'?)"``, or ``""`` when nothing is close.

    Candidates are compared case-insensitively: the same name in another case comes
    first, then names ending in ``.name`` (``fields.region`` for ``region``), then the
    closest spellings (`difflib.get_close_matches()`).

    Examples:
        >>> did_you_mean("chanel", ["channel", "priority"])
        " (did you mean 'channel'?)"
        >>> did_you_mean("region", ["fields.region", "group"])
        " (did you mean 'fields.region'?)"
        >>> did_you_mean("zzz", ["channel"])
        ''
    """
    unique = sorted(set(candidates))
    folded: dict[str, str] = {}
    for candidate in unique:
        folded.setdefault(candidate.casefold(), candidate)
    wanted = name.casefold()
    found = [folded[wanted]] if wanted in folded else []
    found += [folded[key] for key in folded if key.endswith("." + wanted)]
    for key in difflib.get_close_matches(wanted, list(folded), n=limit, cutoff=0.75):
        if folded[key] not in found:
            found.append(folded[key])
    # "fields" is no better a guess for "fields.zzz" than nothing.
    found = [item for item in found if item != name and not name.startswith(item + ".")]
    found = found[:limit]
    if not found:
        return ""
    return f" (did you mean {' or '.join(repr(item) for item in found)}?)"
