"""Knowledge base and reply templates: versioned articles, search that works in Chinese.

Articles are immutable values ([`Article`][csmkit.knowledge.Article]); every edit saves a new
[`ArticleVersion`][csmkit.knowledge.ArticleVersion]; the lifecycle ``draft → in_review → published →
archived`` is a [`csmkit.workflow`][csmkit.workflow] definition
([`ARTICLE_WORKFLOW`][csmkit.knowledge.ARTICLE_WORKFLOW]) with the roles ``author`` and
``reviewer``; only published versions are served to customers. Search is BM25F over title, tags and
body with Chinese indexed as character bigrams, so any word of two or more characters inside a
sentence is found.

Examples:
    >>> [t for t in tokenize("一篇文章") if len(t) == 2]
    ['一篇', '篇文', '文章']
"""

from __future__ import annotations

import logging

from csmkit.knowledge._article import (
    AUDIENCES,
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    STATUSES,
    Article,
    ArticleRecord,
    ArticleVersion,
)
from csmkit.knowledge._base import ArticleHit, KnowledgeBase
from csmkit.knowledge._errors import KnowledgeError, TemplateError
from csmkit.knowledge._index import FIELD_WEIGHTS, SearchHit, SearchIndex, snippet
from csmkit.knowledge._lifecycle import ARTICLE_WORKFLOW, AUTHOR, REVIEWER
from csmkit.knowledge._markdown import (
    ImportResult,
    import_directory,
    parse_markdown,
    read_directory,
)
from csmkit.knowledge._sqlite import SqliteKnowledgeStore
from csmkit.knowledge._store import KnowledgeStore, MemoryKnowledgeStore
from csmkit.knowledge._suggest import (
    ARTICLES_FIELD,
    link_article,
    linked_articles,
    suggest_articles,
)
from csmkit.knowledge._templates import (
    DEFAULT_PLACEHOLDERS,
    MAX_TEMPLATE_CHARS,
    ReplyTemplate,
    TemplateSet,
)
from csmkit.knowledge._text import (
    MAX_QUERY_CHARS,
    MAX_QUERY_TERMS,
    QueryTerm,
    Synonyms,
    analyze_query,
    normalize,
    tokenize,
)
from csmkit.knowledge._usage import KnowledgeUsage, RateComparison, knowledge_usage

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "ARTICLES_FIELD",
    "ARTICLE_WORKFLOW",
    "AUDIENCES",
    "AUTHOR",
    "DEFAULT_PLACEHOLDERS",
    "FIELD_WEIGHTS",
    "MAX_BODY_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_QUERY_TERMS",
    "MAX_TEMPLATE_CHARS",
    "MAX_TITLE_CHARS",
    "REVIEWER",
    "STATUSES",
    "Article",
    "ArticleHit",
    "ArticleRecord",
    "ArticleVersion",
    "ImportResult",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeStore",
    "KnowledgeUsage",
    "MemoryKnowledgeStore",
    "QueryTerm",
    "RateComparison",
    "ReplyTemplate",
    "SearchHit",
    "SearchIndex",
    "SqliteKnowledgeStore",
    "Synonyms",
    "TemplateError",
    "TemplateSet",
    "analyze_query",
    "import_directory",
    "knowledge_usage",
    "link_article",
    "linked_articles",
    "normalize",
    "parse_markdown",
    "read_directory",
    "snippet",
    "suggest_articles",
    "tokenize",
]
