"""What a logged statement's text says once leading comments are skipped: the servers and mysqldump wrap DDL in
version comments (`/*!50610 ALTER TABLE t ENGINE=InnoDB */`, `/*!40000 ALTER TABLE t DISABLE KEYS */`, MariaDB's
`/*M!100100 ... */`), which the server executes when its version is at least the number; plain comments
(`/* ... */`, `-- `, `#`) are not part of the statement."""

from __future__ import annotations

import re

_VERSION_COMMENT = re.compile(r"/\*M?!\d{0,6}")
DDL_PREFIXES = ("CREATE", "ALTER", "DROP", "RENAME", "TRUNCATE", "GRANT", "REVOKE", "ANALYZE", "OPTIMIZE",
                "REPAIR", "INSTALL", "UNINSTALL", "SET PASSWORD")


def statement_head(query: str) -> str:
    """The statement text after leading whitespace and comments; a leading version comment's content counts
    as statement text (its closing `*/` stays at the end)."""
    text = query
    while True:
        text = text.lstrip()
        match = _VERSION_COMMENT.match(text)
        if match:
            text = text[match.end():]
            continue
        if text.startswith("/*"):
            end = text.find("*/", 2)
            if end < 0:
                return ""
            text = text[end + 2:]
            continue
        if text.startswith(("-- ", "--\t", "--\n", "#")):
            newline = text.find("\n")
            if newline < 0:
                return ""
            text = text[newline + 1:]
            continue
        return text


def keywords(query: str, count: int = 6) -> list[str]:
    """The first `count` words of the statement, upper-cased (comments skipped)."""
    return [w.upper() for w in re.findall(r"[A-Za-z_]+", statement_head(query)[:200])[:count]]


def is_database_statement(query: str) -> bool:
    """CREATE/DROP/ALTER DATABASE (or SCHEMA): the database may not exist, so no `USE` may precede it."""
    words = keywords(query, 2)
    return len(words) == 2 and words[0] in ("CREATE", "DROP", "ALTER") and words[1] in ("DATABASE", "SCHEMA")



def names_database(query: str, database: str) -> bool:
    """True when the statement text names `database` itself: a qualified name (`db`.t, db.t) or CREATE/DROP/ALTER
    DATABASE db (what --rewrite-db, like mysqlbinlog's, does not rewrite)."""
    name = "(?:`" + re.escape(database.replace("`", "``")) + "`|" + re.escape(database) + r"(?![\w$]))"
    qualified = re.compile(r"(?<![\w$`.])" + name + r"\s*\.", re.IGNORECASE)
    database_word = re.compile(r"\b(?:DATABASE|SCHEMA)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?" + name, re.IGNORECASE)
    head = statement_head(query)
    return bool(qualified.search(head) or database_word.search(head))


def classify_query(query: str) -> str:
    """begin / commit / rollback / ddl / xa / other for a QueryEvent's text (leading comments skipped, a leading
    version comment's content read as the statement)."""
    head = statement_head(query).upper()
    if head.startswith(("BEGIN", "START TRANSACTION")):
        return "begin"
    if head.startswith("COMMIT"):
        return "commit"
    if head.startswith("ROLLBACK") and "TO" not in head.split()[1:2]:
        return "rollback"
    if head.startswith("XA "):
        return "xa"
    if head.startswith(DDL_PREFIXES):
        return "ddl"
    return "other"
