"""A small reader of Dropbox's Stone API definitions, enough to check JSON against them.

The definitions (dropbox/dropbox-api-spec, copies in shared/api-specs/dropbox) are parsed with Stone's
own parser, `stone.frontend.parser` of the `stone` package Dropbox maintains on PyPI
(https://github.com/dropbox/stone). Stone's IR generator is not used: it insists on every imported
namespace, and the copies leave out several (async, account, file_properties, seen_state,
secondary_emails, users_common...). Types of a namespace that is absent are accepted as they come,
and the report says so.

What is checked, as Stone's JSON serialization defines it
(https://github.com/dropbox/stone/blob/main/docs/json_serializer.rst): a struct is an object holding
every field that is neither optional (`?`) nor defaulted, and no field it does not define (".tag" only
naming a subtype of a struct with enumerated subtypes); a union is an object whose ".tag" names a
member (or, for a Void member, the bare tag string), a struct member's fields flattened beside the tag,
any other member's value under a key named like the tag; primitives by JSON type, strings by
`pattern` / `max_length`, timestamps by their format, integers by range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from stone.frontend.parser import ParserFactory

PRIMITIVES = {
    "String",
    "Boolean",
    "UInt32",
    "UInt64",
    "Int32",
    "Int64",
    "Float32",
    "Float64",
    "Timestamp",
    "Bytes",
    "Void",
}


@dataclass
class Stone:
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)  # namespace -> name -> AST node
    routes: dict[str, dict[tuple[str, int], Any]] = field(default_factory=dict)  # namespace -> (name, version)
    unchecked: set[str] = field(default_factory=set)  # namespaces referred to but absent

    @classmethod
    def load(cls, folder: Path) -> Stone:
        stone = cls()
        factory = ParserFactory(debug=False)
        for path in sorted(folder.glob("*.stone")):
            parser = factory.get_parser()
            nodes = parser.parse(path.read_text(encoding="utf-8"), str(path))
            if parser.errors:
                raise ValueError(f"{path}: {parser.errors[:3]}")
            namespace = next(node.name for node in nodes if type(node).__name__ == "AstNamespace")
            names = stone.definitions.setdefault(namespace, {})
            routes = stone.routes.setdefault(namespace, {})
            for node in nodes:
                kind = type(node).__name__
                if kind in ("AstStructDef", "AstUnionDef", "AstAlias"):
                    names[node.name] = node
                elif kind == "AstRouteDef":
                    routes[(node.name, node.version)] = node
        return stone

    def route(self, path: str) -> Any:
        """The route a URL path below /2/ names: `team/members/list_v2` is team's members/list:2."""
        namespace, _, name = path.partition("/")
        version = 1
        match = re.fullmatch(r"(.*)_v(\d+)", name)
        if match:
            name, version = match.group(1), int(match.group(2))
        return self.routes[namespace][(name, version)]

    # -- validation ----------------------------------------------------------------------------

    def check(self, value: Any, ref: Any, namespace: str, where: str = "$") -> list[str]:
        """Problems of `value` against the type `ref` (an AstTypeRef) read in `namespace`."""
        if value is None:
            return [] if ref.nullable or ref.name == "Void" else [f"{where}: null where {ref.name} is required"]
        if ref.name in PRIMITIVES and ref.ns is None:
            return self._primitive(value, ref, where)
        if ref.name == "List" and ref.ns is None:
            if not isinstance(value, list):
                return [f"{where}: expected a list"]
            element = ref.args[0][0]
            return [p for i, item in enumerate(value) for p in self.check(item, element, namespace, f"{where}[{i}]")]
        if ref.name == "Map" and ref.ns is None:
            if not isinstance(value, dict):
                return [f"{where}: expected a map"]
            element = ref.args[0][1]
            return [p for k, item in value.items() for p in self.check(item, element, namespace, f"{where}.{k}")]
        owner = ref.ns or namespace
        if owner not in self.definitions:
            self.unchecked.add(owner)
            return []
        node = self.definitions[owner].get(ref.name)
        if node is None:
            return [f"{where}: {owner}.{ref.name} is not defined"]
        kind = type(node).__name__
        if kind == "AstAlias":
            return self.check(value, _nullable(node.type_ref, ref.nullable), owner, where)
        if kind == "AstStructDef":
            return self._struct(value, node, owner, where)
        return self._union(value, node, owner, where)

    def _primitive(self, value: Any, ref: Any, where: str) -> list[str]:
        name, options = ref.name, ref.args[1]
        if name == "String":
            if not isinstance(value, str):
                return [f"{where}: expected a string"]
            if "pattern" in options and not re.fullmatch(options["pattern"], value):
                return [f"{where}: {value!r} does not match {options['pattern']!r}"]
            if "max_length" in options and len(value) > options["max_length"]:
                return [f"{where}: longer than {options['max_length']}"]
            return []
        if name == "Boolean":
            return [] if isinstance(value, bool) else [f"{where}: expected a boolean"]
        if name.startswith(("UInt", "Int")):
            if not isinstance(value, int) or isinstance(value, bool):
                return [f"{where}: expected an integer"]
            low = options.get("min_value", 0 if name.startswith("U") else None)
            high = options.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                return [f"{where}: {value} out of range"]
            return []
        if name.startswith("Float"):
            return (
                []
                if isinstance(value, int | float) and not isinstance(value, bool)
                else [f"{where}: expected a number"]
            )
        if name == "Timestamp":
            fmt = ref.args[0][0] if ref.args[0] else "%Y-%m-%dT%H:%M:%SZ"
            try:
                datetime.strptime(value, fmt)
            except (TypeError, ValueError):
                return [f"{where}: {value!r} is not a timestamp in {fmt!r}"]
            return []
        return []

    def _fields(self, node: Any, namespace: str) -> tuple[dict[str, Any], str]:
        """A struct's fields with its ancestors', each with the namespace its type is read in."""
        found: dict[str, Any] = {}
        if node.extends is not None:
            parent_ns = node.extends.ns or namespace
            parent = self.definitions.get(parent_ns, {}).get(node.extends.name)
            if parent is not None:
                inherited, _ = self._fields(parent, parent_ns)
                found.update(inherited)
        for member in node.fields:
            found[member.name] = (member, namespace)
        return found, namespace

    def _struct(self, value: Any, node: Any, namespace: str, where: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{where}: expected an object ({node.name})"]
        subtypes = getattr(node, "subtypes", None)
        if subtypes:
            chosen = value.get(".tag")
            for subtype in subtypes[0]:
                if subtype.name == chosen:
                    sub_ns = subtype.type_ref.ns or namespace
                    sub = self.definitions.get(sub_ns, {}).get(subtype.type_ref.name)
                    if sub is None:
                        self.unchecked.add(sub_ns)
                        return []
                    return self._struct_fields({k: v for k, v in value.items() if k != ".tag"}, sub, sub_ns, where)
            return [f"{where}: .tag {chosen!r} names no subtype of {node.name}"]
        return self._struct_fields(value, node, namespace, where)

    def _struct_fields(self, value: dict[str, Any], node: Any, namespace: str, where: str) -> list[str]:
        fields, _ = self._fields(node, namespace)
        problems = [f"{where}.{key}: not a field of {node.name}" for key in value if key not in fields]
        for name, (member, member_ns) in fields.items():
            ref = member.type_ref
            if name not in value:
                if not ref.nullable and not member.has_default:
                    problems.append(f"{where}: {node.name} lacks its required field {name!r}")
                continue
            problems += self.check(value[name], ref, member_ns, f"{where}.{name}")
        return problems

    def _members(self, node: Any, namespace: str) -> dict[str, tuple[Any, str]]:
        found: dict[str, tuple[Any, str]] = {}
        if node.extends is not None:
            parent_ns = node.extends.ns or namespace
            parent = self.definitions.get(parent_ns, {}).get(node.extends.name)
            if parent is not None:
                found.update(self._members(parent, parent_ns))
        for member in node.fields:
            found[member.name] = (member, namespace)
        return found

    def _union(self, value: Any, node: Any, namespace: str, where: str) -> list[str]:
        tag = value if isinstance(value, str) else value.get(".tag") if isinstance(value, dict) else None
        if not isinstance(tag, str):
            return [f"{where}: a {node.name} union needs a .tag"]
        members = self._members(node, namespace)
        if tag not in members:
            return [f"{where}: .tag {tag!r} is not a member of {node.name}"]
        member, member_ns = members[tag]
        ref = getattr(member, "type_ref", None)
        rest = {k: v for k, v in value.items() if k != ".tag"} if isinstance(value, dict) else {}
        if ref is None or ref.name == "Void":
            return [f"{where}: void member {tag!r} carries {sorted(rest)}"] if rest else []
        target_ns = ref.ns or member_ns
        target = self.definitions.get(target_ns, {}).get(ref.name)
        while target is not None and type(target).__name__ == "AstAlias":
            ref = target.type_ref
            target_ns = ref.ns or target_ns
            target = self.definitions.get(target_ns, {}).get(ref.name)
        is_plain_struct = type(target).__name__ == "AstStructDef" and not getattr(target, "subtypes", None)
        if is_plain_struct:
            return self._struct_fields(rest, target, target_ns, f"{where}<{tag}>")
        if tag not in rest:
            return [] if ref.nullable else [f"{where}: member {tag!r} lacks its value"]
        return self.check(rest[tag], ref, member_ns, f"{where}.{tag}")


def _nullable(ref: Any, nullable: bool) -> Any:
    if not nullable or ref.nullable:
        return ref
    copy = type(ref).__new__(type(ref))
    copy.__dict__.update(ref.__dict__)
    copy.nullable = True
    return copy
