"""YAML text -> plain Python values, without implicit typing, with positions on demand.

Every scalar stays the string it was written as (libyaml's ``CBaseLoader`` composer): ``18:00``,
``no`` and ``0123`` are never 1080, False or 83; the schema decides types. Nothing is ever
constructed from a tag, so ``!!python/...`` is an error, never executed. Duplicate keys, more
than :data:`MAX_ALIASES` alias uses, nesting deeper than :data:`MAX_DEPTH` and files over
:data:`MAX_BYTES` are refused with the file, line and column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from scheduler.errors import InputError
from scheduler.problems import Problem

MAX_BYTES = 10 * 1024 * 1024
MAX_ALIASES = 100
MAX_DEPTH = 64

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

Position = tuple[int, int]


class Loader(yaml.CBaseLoader):
    """libyaml's base loader with the one Python call it makes per node made trivial.

    ``BaseResolver`` has no implicit resolvers, so every untagged node gets the default tag
    of its kind; this says so directly instead of searching empty tables for each scalar.
    Nodes are only composed, never constructed: no tag is ever acted on.
    """

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


class YamlError(InputError):
    """A YAML file that cannot be read; carries the :class:`Problem`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render())
        self.problem = problem


@dataclass
class Source:
    """One YAML file: its text, and positions of any value path, computed on demand."""

    path: str
    text: str
    _root: yaml.Node | None = field(default=None, repr=False)

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Position:
        """(line, column), 1-based, of the value at ``loc`` (or of its key with ``key=True``).

        Path elements that do not match the document (a pydantic union tag, say) are skipped;
        the walk stops at the deepest node it can reach.
        """
        node = self._node()
        if node is None:
            return (1, 1)
        mark = node.start_mark
        for part in loc:
            found = _child(node, part)
            if found is None:
                continue
            key_node, node = found
            mark = key_node.start_mark if key and part == loc[-1] and key_node else node.start_mark
        return (mark.line + 1, mark.column + 1)

    def _node(self) -> yaml.Node | None:
        if self._root is None:
            self._root = yaml.compose(self.text, Loader=Loader)
        return self._root


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key_node, value in node.value:
            if key_node.value == part:
                return key_node, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None


class ParseMemo:
    """Files already parsed, by the sha256 of their bytes: the plain value each parses to.

    ``known`` is what an earlier run left (a cache kept between runs); ``used`` what this run
    read or parsed, the part worth keeping. Only files that parse without a problem are kept,
    so every check of :func:`parse_yaml` still runs on a file the first time it is seen.
    """

    def __init__(self, known: dict[str, Any] | None = None) -> None:
        self.known = known or {}
        self.used: dict[str, Any] = {}
        self.added = 0

    def get(self, key: str) -> Any:
        """The value parsed from the content whose digest is ``key``, or None."""
        value = self.known.get(key)
        if value is None:
            return self.used.get(key)  # parsed earlier in this run (a base and a head)
        self.used[key] = value
        return value

    def put(self, key: str, value: Any) -> None:
        """Remember what the content with digest ``key`` parses to."""
        self.used[key] = value
        self.added += 1

    def learn(self, key: str, value: Any) -> None:
        """Take what another process parsed the content with digest ``key`` to."""
        self.known[key] = value
        self.added += 1


def digest(data: bytes | str) -> str:
    """The key of a file's content in a :class:`ParseMemo`."""
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def parse_yaml(data: bytes | str, path: str, memo: ParseMemo | None = None) -> tuple[Any, Source]:
    """Parse one YAML file into plain dicts, lists and strings (query).

    Raises :class:`YamlError` naming the file, line and column for anything it refuses.
    With ``memo``, a file whose bytes were parsed before is not parsed again.
    """
    text = decode_text(data, path)
    key = ""
    if memo is not None:
        key = digest(data)
        known = memo.get(key)
        if known is not None:
            return known, Source(path, text)
    value, source = parse_text(text, path)
    if memo is not None:
        memo.put(key, value)
    return value, source


def parse_text(text: str, path: str) -> tuple[Any, Source]:
    """Parse decoded YAML text (see :func:`parse_yaml`, which decodes and remembers)."""
    _guard_depth(text, path)
    try:
        nodes = list(yaml.compose_all(text, Loader=Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or str(exc)
        raise YamlError(_problem(path, pos, "yaml-syntax", f"invalid YAML: {reason}")) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        pos = (before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        character = (
            f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        )
        message = f"invalid YAML: unacceptable character {character}: {exc.reason}"
        raise YamlError(_problem(path, pos, "yaml-syntax", message)) from None
    except yaml.YAMLError as exc:
        raise YamlError(_problem(path, (1, 1), "yaml-syntax", f"invalid YAML: {exc}")) from None
    if len(nodes) > 1:
        mark = nodes[1].start_mark
        pos = (mark.line + 1, mark.column + 1)
        raise YamlError(
            _problem(
                path,
                pos,
                "yaml-multi",
                "one YAML document per file: remove the '---' and what follows",
            )
        )
    if not nodes or nodes[0] is None:
        raise YamlError(
            _problem(
                path, (1, 1), "yaml-empty", "the file is empty: write its content or delete it"
            )
        )
    source = Source(path, text)
    return _Builder(path).build(nodes[0], 0), source


def decode_text(data: bytes | str, path: str) -> str:
    """The text of a YAML file; YamlError when it is too large, not UTF-8 or has NUL bytes."""
    size = len(data)
    if size > MAX_BYTES:
        message = (
            f"the file is {size:,} bytes; files over {MAX_BYTES:,} bytes are refused: split it"
        )
        raise YamlError(_problem(path, (0, 0), "yaml-too-large", message))
    if isinstance(data, str):
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): save the file as UTF-8"
        raise YamlError(_problem(path, (line, 1), "yaml-encoding", message)) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise YamlError(
            _problem(
                path,
                (line, 1),
                "yaml-encoding",
                "the file contains NUL bytes: it is not a text file",
            )
        )
    return text.removeprefix("\ufeff")


def _guard_depth(text: str, path: str) -> None:
    """Refuse pathological nesting before libyaml's recursive composer sees it.

    The composer recurses once per level in C, so ``- - - ...`` or ``[[[...`` 100,000 deep
    would overflow the stack: the event stream (flat) is walked first, unless a cheap bound
    shows the file cannot nest that deep.
    """
    if _depth_bound(text) <= MAX_DEPTH:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    pos = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
                    message = f"nesting deeper than {MAX_DEPTH} levels is refused"
                    raise YamlError(_problem(path, pos, "yaml-too-deep", message))
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # the composer reports syntax errors with their position


def _depth_bound(text: str) -> int:
    """An upper bound of the nesting depth: every level is opened by more indentation, by a
    block sequence under a key at the same indentation, or by an indicator on the line."""
    indent = indicators = 0
    for line in text.splitlines():
        stripped = line.lstrip()
        indent = max(indent, len(line) - len(stripped))
        count = sum(map(stripped.count, "[{-?:"))
        indicators = max(indicators, count)
    return 2 * (indent + 1) + indicators + 1


class _Builder:
    """Turns a composed node tree into plain values, checking keys, tags and aliases."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.seen: set[int] = set()
        self.alias_uses = 0
        self.expanding = 0  # > 0 while building the content of an alias

    def build(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.ScalarNode):
            self._visit(node, depth)
            return node.value
        repeated = self._visit(node, depth)
        self.expanding += repeated
        try:
            return self._collection(node, depth)
        finally:
            self.expanding -= repeated

    def _collection(self, node: yaml.Node, depth: int) -> Any:
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, depth + 1) for item in node.value]
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self._fail(key_node, "yaml-key", "keys must be plain scalars")
            key = key_node.value
            if key in result:
                self._fail(key_node, "yaml-duplicate-key", f"duplicate key '{key}': keep one")
            result[key] = self.build(value_node, depth + 1)
        return result

    def _visit(self, node: yaml.Node, depth: int) -> bool:
        """Check one node; True when it was met before (reached through an alias).

        Every alias of a scalar counts, and every collection met again, also inside the
        content of another alias (so nested aliases count what they expand to).
        """
        if node.tag not in (_STR, _MAP, _SEQ):
            self._fail(
                node,
                "yaml-tag",
                f"YAML tags such as '{node.tag}' are not allowed: write plain values",
            )
        if depth > MAX_DEPTH:
            self._fail(node, "yaml-too-deep", f"nesting deeper than {MAX_DEPTH} levels is refused")
        if id(node) not in self.seen:
            self.seen.add(id(node))
            return False
        if not (isinstance(node, yaml.ScalarNode) and self.expanding):
            self.alias_uses += 1
        if self.alias_uses > MAX_ALIASES:
            self._fail(
                node,
                "yaml-aliases",
                f"more than {MAX_ALIASES} alias uses are refused: write the values out",
            )
        return True

    def _fail(self, node: yaml.Node, code: str, message: str) -> None:
        mark = node.start_mark
        raise YamlError(_problem(self.path, (mark.line + 1, mark.column + 1), code, message))


def _problem(path: str, pos: Position, code: str, message: str) -> Problem:
    return Problem(path, pos[0], pos[1], "error", code, message)
