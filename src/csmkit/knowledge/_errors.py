"""The errors of [`csmkit.knowledge`][csmkit.knowledge]."""

from __future__ import annotations

from csmkit.errors import CsmkitError

__all__ = ["KnowledgeError", "TemplateError"]


class KnowledgeError(CsmkitError, ValueError):
    """An article, a knowledge-base file or a knowledge operation is invalid.

    Raised for malformed article data (the message names the path inside the data, or the
    file and line of a Markdown file), an article over the size limits, a version that
    does not exist, and an edit based on a stale revision. Nothing is stored when it is
    raised.

    Attributes:
        path: Where the problem is (``"tags[2]"``, ``"kb/ac.md:3"``), or ``""``.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class TemplateError(KnowledgeError):
    """A reply template is invalid (unknown placeholder, bad syntax) or cannot be filled.

    Definitions report every problem at once in ``problems``.

    Attributes:
        problems: One line per problem, each naming the placeholder and its position.
    """

    def __init__(self, message: str, *, problems: list[str] | tuple[str, ...] = ()) -> None:
        self.problems = tuple(problems)
        if self.problems:
            message = message + "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(message)
