"""GTID sets with the operations the binlog commands need (parse, contains, add, difference, format).

Two notations, one class:
- MySQL: ``uuid[:tag]:1-5:7,uuid2:1-3`` (tags are MySQL 8.3+; ``uuid:tag1:1-3:tag2:4`` is accepted too).
- MariaDB: ``domain-server-seq`` items; ``D-S-N`` is the single GTID N and ``D-S-A-B`` the range A..B.
  A MariaDB *position* (``gtid_binlog_pos``, a Gtid_list) means "everything up to N": `from_mariadb_position`.

Internally a set maps a source key to sorted, merged, closed intervals: for MySQL the key is ``"uuid"`` or
``"uuid:tag"`` (lower case), for MariaDB ``"domain-server"``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mysqlinspect.errors import UsageError

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_MARIADB_ITEM = re.compile(r"^(\d+)-(\d+)-(\d+)(?:-(\d+))?$")

Interval = tuple[int, int]


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _subtract(intervals: list[Interval], removed: list[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for lo, hi in intervals:
        cur = lo
        for rlo, rhi in removed:
            if rhi < cur or rlo > hi:
                continue
            if rlo > cur:
                out.append((cur, rlo - 1))
            cur = max(cur, rhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return out


@dataclass
class GtidSet:
    """A set of GTIDs of one flavor ("mysql" or "mariadb")."""

    flavor: str = "mysql"
    sources: dict[str, list[Interval]] = field(default_factory=dict)

    # construction ------------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str | None, flavor: str | None = None) -> GtidSet:
        """Parse a set in either notation; `flavor` None guesses from the text."""
        text = (text or "").replace("\n", "").strip()
        guessed = flavor or guess_flavor(text)
        out = cls(flavor=guessed)
        if not text:
            return out
        for item in (part.strip() for part in text.split(",")):
            if item:
                out._add_item(item)
        return out

    def _add_item(self, item: str) -> None:
        if self.flavor == "mariadb":
            match = _MARIADB_ITEM.match(item)
            if not match:
                raise UsageError(f"not a MariaDB GTID (domain-server-seq or domain-server-from-to): {item!r}")
            domain, server, first, last = match.groups()
            lo = int(first)
            hi = int(last) if last is not None else lo
            self.add_interval(f"{int(domain)}-{int(server)}", lo, hi)
            return
        parts = item.split(":")
        uuid = parts[0].strip().lower()
        if not _UUID.match(uuid) or len(parts) < 2:
            raise UsageError(f"not a MySQL GTID set item (uuid[:tag]:interval): {item!r}")
        uuid = _canonical_uuid(uuid)
        key = uuid
        for part in (p.strip() for p in parts[1:]):
            if _TAG.match(part):
                key = f"{uuid}:{part.lower()}"
                continue
            lo_text, _, hi_text = part.partition("-")
            try:
                lo = int(lo_text)
                hi = int(hi_text) if hi_text else lo
            except ValueError:
                raise UsageError(f"bad GTID interval {part!r} in {item!r}") from None
            if lo < 1 or hi < lo:
                raise UsageError(f"bad GTID interval {part!r} in {item!r}")
            self.add_interval(key, lo, hi)

    @classmethod
    def from_mariadb_position(cls, text: str | None) -> GtidSet:
        """A MariaDB GTID position ("0-1-100,1-2-7"): every seq up to N of each domain-server."""
        out = cls(flavor="mariadb")
        for item in (p.strip() for p in (text or "").split(",")):
            if not item:
                continue
            match = _MARIADB_ITEM.match(item)
            if not match:
                raise UsageError(f"not a MariaDB GTID position item: {item!r}")
            domain, server, seq, _ = match.groups()
            if int(seq) >= 1:
                out.add_interval(f"{int(domain)}-{int(server)}", 1, int(seq))
        return out

    # operations --------------------------------------------------------------------------------
    def add_interval(self, key: str, lo: int, hi: int) -> None:
        self.sources[key] = _merge([*self.sources.get(key, []), (lo, hi)])

    def add_gtid(self, gtid: str) -> None:
        key, seq = split_gtid(gtid)
        intervals = self.sources.setdefault(key, [])
        if intervals and intervals[-1][1] + 1 == seq:
            intervals[-1] = (intervals[-1][0], seq)  # the common case: the next transaction of a source
        elif not intervals or seq > intervals[-1][1]:
            intervals.append((seq, seq))
        elif not self.contains(gtid):
            self.sources[key] = _merge([*intervals, (seq, seq)])

    def contains(self, gtid: str) -> bool:
        key, seq = split_gtid(gtid)
        for lo, hi in self.sources.get(key, ()):
            if lo <= seq <= hi:
                return True
            if lo > seq:
                return False
        return False

    def __contains__(self, gtid: object) -> bool:
        return isinstance(gtid, str) and self.contains(gtid)

    def union(self, other: GtidSet) -> GtidSet:
        out = self.copy()
        for key, intervals in other.sources.items():
            out.sources[key] = _merge([*out.sources.get(key, []), *intervals])
        return out

    def difference(self, other: GtidSet) -> GtidSet:
        out = GtidSet(flavor=self.flavor)
        for key, intervals in self.sources.items():
            rest = _subtract(intervals, other.sources.get(key, []))
            if rest:
                out.sources[key] = rest
        return out

    def intersection(self, other: GtidSet) -> GtidSet:
        return self.difference(self.difference(other))

    def issubset(self, other: GtidSet) -> bool:
        return self.difference(other).is_empty()

    def is_empty(self) -> bool:
        return not any(self.sources.values())

    def count(self) -> int:
        return sum(hi - lo + 1 for intervals in self.sources.values() for lo, hi in intervals)

    def first_and_last(self) -> tuple[str | None, str | None]:
        """The lowest and highest GTID (by source order, then number); None for an empty set."""
        items = [(key, iv) for key, ivs in sorted(self.sources.items()) for iv in ivs]
        if not items:
            return None, None
        first_key, (first_lo, _) = items[0]
        last_key, (_, last_hi) = max(items, key=lambda kv: kv[1][1])
        return make_gtid(self.flavor, first_key, first_lo), make_gtid(self.flavor, last_key, last_hi)

    def copy(self) -> GtidSet:
        return GtidSet(flavor=self.flavor, sources={k: list(v) for k, v in self.sources.items()})

    def __str__(self) -> str:
        if self.flavor == "mariadb":
            items = []
            for key, intervals in sorted(self.sources.items()):
                for lo, hi in intervals:
                    items.append(f"{key}-{lo}" if lo == hi else f"{key}-{lo}-{hi}")
            return ",".join(items)
        # MySQL's own form: one entry per source uuid, its untagged intervals first, then each tag's (8.3+)
        by_uuid: dict[str, list[str]] = {}
        for key, intervals in sorted(self.sources.items(), key=lambda kv: (kv[0].split(":")[0], ":" in kv[0], kv[0])):
            if intervals:
                uuid, _, tag = key.partition(":")
                ranges = ":".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)
                by_uuid.setdefault(uuid, []).append(f"{tag}:{ranges}" if tag else ranges)
        return ",".join(f"{uuid}:{':'.join(parts)}" for uuid, parts in by_uuid.items())

    def mariadb_position(self) -> str:
        """The MariaDB position notation of this set: the highest seq per domain (for @slave_connect_state)."""
        best: dict[str, tuple[int, str]] = {}
        for key, intervals in self.sources.items():
            if not intervals:
                continue
            domain = key.split("-")[0]
            top = intervals[-1][1]
            if domain not in best or top > best[domain][0]:
                best[domain] = (top, key)
        return ",".join(f"{key}-{seq}" for _, (seq, key) in sorted(best.items()))


def guess_flavor(text: str) -> str:
    first = text.split(",")[0].strip()
    return "mariadb" if _MARIADB_ITEM.match(first) else "mysql"


def _canonical_uuid(uuid: str) -> str:
    raw = uuid.replace("-", "").lower()
    return f"{raw[0:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"


def split_gtid(gtid: str) -> tuple[str, int]:
    """'uuid[:tag]:n' -> ('uuid[:tag]', n); 'd-s-n' -> ('d-s', n)."""
    gtid = gtid.strip()
    if ":" in gtid:
        key, _, seq = gtid.rpartition(":")
        return key.lower(), int(seq)
    domain, server, seq = gtid.split("-")
    return f"{int(domain)}-{int(server)}", int(seq)


def make_gtid(flavor: str, key: str, seq: int) -> str:
    return f"{key}-{seq}" if flavor == "mariadb" else f"{key}:{seq}"


def parse_gtid(text: str) -> str:
    """Validate one GTID (not a set) and return it canonically."""
    gset = GtidSet.parse(text)
    if gset.count() != 1:
        raise UsageError(f"expected one GTID, got {text!r}")
    first, _ = gset.first_and_last()
    assert first is not None
    return first
