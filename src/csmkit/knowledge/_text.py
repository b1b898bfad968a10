"""Text analysis for search: Latin words, CJK character bigrams, synonyms as data.

Chinese, Japanese and Korean text has no spaces, so a run of those characters is
indexed as overlapping character bigrams (``空调不制冷`` → 空调 调不 不制 制冷) plus its
single characters. Every word of two or more characters inside a sentence is then a
run of consecutive bigrams and is found; single characters are only a low-weight
fallback for queries whose bigrams match nothing. Latin text is NFKC-normalised and
case-folded, with an optional stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit.knowledge._errors import KnowledgeError

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "QueryTerm",
    "Synonyms",
    "analyze_query",
    "normalize",
    "tokenize",
]

MAX_QUERY_CHARS = 1000
"""A query is cut to this many characters before analysis (bounded cost on 100 KB input)."""

MAX_QUERY_TERMS = 64
"""At most this many distinct query terms are scored; the rest are ignored."""

_CJK = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # compatibility ideographs
)
_RUN = re.compile(rf"([{_CJK}]+)|([^\W_{_CJK}]+)")
_IS_CJK = re.compile(rf"[{_CJK}]")

Stemmer = Callable[[str], str]
"""A function from a case-folded Latin word to its stem (e.g. a Snowball stemmer)."""


def normalize(text: str) -> str:
    """NFKC-normalise and case-fold ``text`` (full-width letters become ASCII).

    Examples:
        >>> normalize("ＷｉＦｉ Router")
        'wifi router'
    """
    return unicodedata.normalize("NFKC", text).casefold()


def _latin(word: str, stemmer: Stemmer | None) -> str:
    return stemmer(word) if stemmer is not None else word


def tokenize(text: str, *, stemmer: Stemmer | None = None) -> list[str]:
    """The index tokens of ``text``: Latin words, CJK bigrams and CJK single characters.

    Examples:
        >>> tokenize("空调不制冷 Error E1")
        ['空', '调', '不', '制', '冷', '空调', '调不', '不制', '制冷', 'error', 'e1']
    """
    tokens: list[str] = []
    for match in _RUN.finditer(normalize(text)):
        cjk, word = match.groups()
        if cjk is not None:
            tokens.extend(cjk)
            tokens.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
        else:
            tokens.append(_latin(word, stemmer))
    return tokens


@attrs.frozen
class QueryTerm:
    """One scored unit of a query.

    Attributes:
        token: The index token it looks up.
        surface: The query text it came from (for "matched words").
        fallback: A CJK single character of a longer run: scored only when no
            document matches a real term.
        group: Terms of one CJK run (or one Latin word) share a group; adjacent
            matched bigrams of a group are reported as one word.
        position: Position inside the group (the bigram's first character).
    """

    token: str
    surface: str
    fallback: bool = False
    group: int = 0
    position: int = 0


def analyze_query(
    text: str, *, stemmer: Stemmer | None = None, synonyms: Synonyms | None = None
) -> list[QueryTerm]:
    """The terms of a user's query; never raises on any string, bounded in cost.

    The text is cut to [`MAX_QUERY_CHARS`][csmkit.knowledge.MAX_QUERY_CHARS], operators and control
    characters are plain separators, and at most
    [`MAX_QUERY_TERMS`][csmkit.knowledge.MAX_QUERY_TERMS] distinct terms (and as many fallback
    characters) are kept. Synonym groups that occur in the query add their other members.

    Examples:
        >>> [t.token for t in analyze_query("空调 NOT cooling") if not t.fallback]
        ['空调', 'not', 'cooling']
    """
    if not isinstance(text, str):  # hostile callers may pass anything
        return []  # type: ignore[unreachable]
    query = normalize(text[:MAX_QUERY_CHARS])
    phrases = [query]
    if synonyms is not None:
        phrases.extend(synonyms.expansions(query))
    terms: list[QueryTerm] = []
    seen: set[str] = set()
    primary = fallbacks = 0
    group = 0
    for phrase in phrases:
        for match in _RUN.finditer(phrase):
            group += 1
            cjk, word = match.groups()
            if word is not None:
                units = [(_latin(word, stemmer), word, False, 0)]
            elif len(cjk) == 1:
                units = [(cjk, cjk, False, 0)]
            else:
                units = [(cjk[i : i + 2], cjk[i : i + 2], False, i) for i in range(len(cjk) - 1)]
                units += [(ch, ch, True, i) for i, ch in enumerate(cjk)]
            for token, surface, fallback, position in units:
                if token in seen or (not fallback and primary >= MAX_QUERY_TERMS):
                    continue
                if fallback and fallbacks >= MAX_QUERY_TERMS:
                    continue
                seen.add(token)
                primary += not fallback
                fallbacks += fallback
                terms.append(QueryTerm(token, surface, fallback, group, position))
    return terms


def matched_words(terms: Sequence[QueryTerm], hit: Callable[[str], bool]) -> tuple[str, ...]:
    """The query words a document matched: adjacent CJK bigrams merge into one word.

    Fallback characters are reported only when no real term matched.
    """
    words: list[str] = []
    runs: dict[int, list[QueryTerm]] = {}
    for term in terms:
        if not term.fallback and hit(term.token):
            runs.setdefault(term.group, []).append(term)
    for group_terms in runs.values():
        current = group_terms[0].surface
        last = group_terms[0].position
        for term in group_terms[1:]:
            if term.position == last + 1 and len(term.surface) == 2 and _IS_CJK.match(term.surface):
                current += term.surface[1]
            else:
                words.append(current)
                current = term.surface
            last = term.position
        words.append(current)
    if not words:
        words = [t.surface for t in terms if t.fallback and hit(t.token)]
    return tuple(dict.fromkeys(words))


@attrs.frozen
class Synonyms:
    """Groups of equivalent words, as data: ``[["空调", "冷气", "air conditioner"]]``.

    A query containing any member of a group also searches the other members.

    Attributes:
        groups: Each group's members, normalised (NFKC, case-folded).

    Examples:
        >>> s = Synonyms.from_dict({"groups": [["空调", "冷气", "Air Conditioner"]]})
        >>> s.expansions("冷气 漏水")
        ['空调', 'air conditioner']
    """

    groups: tuple[tuple[str, ...], ...] = attrs.field(default=())
    _patterns: list[list[tuple[str, re.Pattern[str]]]] = attrs.field(
        init=False, factory=list, eq=False, repr=False
    )

    def __reduce__(self) -> tuple[Any, ...]:
        # The compiled patterns are derived: compile them again on load.
        return reduce_by_init(self)

    def __attrs_post_init__(self) -> None:
        cleaned: list[tuple[str, ...]] = []
        for index, group in enumerate(self.groups):
            if isinstance(group, str) or not isinstance(group, Iterable):  # type: ignore[unreachable]
                raise KnowledgeError("must be a list of words", path=f"groups[{index}]")
            members: list[str] = []
            for position, member in enumerate(group):
                if not isinstance(member, str) or not _RUN.search(normalize(member)):
                    raise KnowledgeError(
                        f"must be a word, got {member!r}", path=f"groups[{index}][{position}]"
                    )
                members.append(" ".join(normalize(member).split()))
            if len(set(members)) < 2:
                raise KnowledgeError("a group needs two different words", path=f"groups[{index}]")
            cleaned.append(tuple(dict.fromkeys(members)))
        object.__setattr__(self, "groups", tuple(cleaned))
        patterns = [[(member, self._pattern(member)) for member in group] for group in self.groups]
        object.__setattr__(self, "_patterns", patterns)

    @staticmethod
    def _pattern(member: str) -> re.Pattern[str]:
        # Latin members match whole words; CJK members match anywhere (no spaces).
        left = "" if _IS_CJK.match(member[0]) else r"(?<![^\W_])"
        right = "" if _IS_CJK.match(member[-1]) else r"(?![^\W_])"
        return re.compile(left + re.escape(member).replace(r"\ ", r"\s+") + right)

    def expansions(self, query: str) -> list[str]:
        """The members to add for a normalised ``query`` (those not already in it)."""
        out: list[str] = []
        for group in self._patterns:
            present = [member for member, pattern in group if pattern.search(query)]
            if present:
                out.extend(member for member, _ in group if member not in present)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The dict form: ``{"groups": [[...], ...]}``."""
        return {"groups": [list(group) for group in self.groups]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Synonyms:
        """Build synonyms from ``{"groups": [[word, ...], ...]}``.

        Raises:
            KnowledgeError: a malformed group, naming its path.
        """
        if not isinstance(data, Mapping) or set(data) != {"groups"}:
            raise KnowledgeError("synonyms must be a mapping with exactly the key 'groups'")
        groups = data["groups"]
        if isinstance(groups, str) or not isinstance(groups, Iterable):
            raise KnowledgeError("must be a list of groups", path="groups")
        return cls(tuple(tuple(g) if isinstance(g, (list, tuple)) else g for g in groups))
