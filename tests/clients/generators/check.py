"""Generates clients with OpenAPI Generator (default options) and checks what comes out.

    python check.py OUT_DIR GENERATOR...      e.g. check.py .generated go kotlin swift6 dart csharp

For each generator it runs `openapi-generator-cli generate -g GENERATOR` on $DOC into
OUT_DIR/GENERATOR and fails when
  - the generator prints any warning or error other than the generic
    "OpenAPI 3.1 support is still in beta" notice (every 3.1 document gets that one) and one
    Dart notice about the path parameter named `date` that is proven to change nothing (see
    DART_DATE_QUIRK), or
  - a field of a generated model is typed as an untyped value or a map (Go `interface{}` /
    `map[...]`, Kotlin `kotlin.Any` / `Map<...>`, Swift `JSONValue` / `AnyCodable` / `[String: ...]`,
    Dart `Object` / `dynamic` / `Map<...>`, C# `Object` / `Dictionary<...>`): the document then
    failed to say what the field holds.
The field check reads each model's field declarations with a per-language pattern, and proves
that the pattern still matches the generator's output: for every object schema of the document,
the generated model must declare exactly as many fields as the schema has properties.

Exits non-zero on any failure; prints one line per generator, and a closing count.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DOC = Path(os.environ["DOC"])
GENERATOR = os.environ["OPENAPI_GENERATOR"]  # the openapi-generator-cli executable

# The one notice every OpenAPI 3.1 document gets from 7.x; nothing else may be printed at WARN.
BETA_NOTICE = "OpenAPI 3.1 support is still in beta"
# One known Dart quirk, tolerated only while it changes nothing: the Dart generator warns once
# per operation with a path parameter named `date` that "Date" is an existing type and renames a
# model it never writes. The diary's `{date}` is the API's name (other code matches the route
# template), so instead of renaming it, the check below proves the rename had no effect: no
# generated file mentions ModelDate.
# Fields that are untyped on purpose, each with why; anything else untyped fails.
INTENDED_UNTYPED = {
    # Any FHIR R4 resource (Patient, Observation, ...): tests/record validates every Bundle
    # against the official R4 JSON schema. Typing it would need the whole FHIR model.
    ("FhirBundleEntry", "resource"),
}
# The Dart generator's own notice that it has no serializer for a text/csv body (the diary
# import); the generated method still exists and takes the body as a String.
DART_CSV_NOTICE = "is not support in the Dart generators by default"
DART_DATE_QUIRK = "Date (existing type) cannot be used as model name. Renamed to ModelDate"
LOG_PROBLEM = re.compile(r"^\[[^\]]*\]\s+(WARN|ERROR)\b|^Exception|^\S*Exception:")


@dataclass(frozen=True)
class Language:
    models: str  # glob of the model files, relative to the output directory
    field: re.Pattern[str]  # one field declaration; groups "name" and "type"
    untyped: re.Pattern[str]  # a field type that says nothing about the value
    stop: re.Pattern[str] | None = None  # where a file's model class ends (C#: the converter)
    skip_type: re.Pattern[str] | None = None  # declarations that are not fields (C# Option<…>)


LANGUAGES: dict[str, Language] = {
    "go": Language(
        models="model_*.go",
        field=re.compile(r"^\t(?P<name>[A-Z]\w*) (?P<type>\S[^`]*?) `json:"),
        untyped=re.compile(r"interface\{\}|\bany\b|\bmap\["),
    ),
    "kotlin": Language(
        models="src/main/kotlin/**/models/*.kt",
        field=re.compile(r"^\s+val (?P<name>`?\w+`?): (?P<type>[^=]+?)(?:\s*=\s*.*?)?,?\s*$"),
        untyped=re.compile(r"\bkotlin\.Any\b|\bAny\?|\bMap<|\bMutableMap<"),
    ),
    "swift6": Language(
        models="Sources/**/Models/*.swift",
        field=re.compile(r"^    public var (?P<name>\w+): (?P<type>.+?)\s*$"),
        untyped=re.compile(r"\bJSONValue\b|\bAnyCodable\b|\bAny\b|\[String: "),
    ),
    "dart": Language(
        models="lib/model/*.dart",
        field=re.compile(r"^  (?!return |final |static |const )(?P<type>[A-Za-z][\w<>, ?]*?) (?P<name>\w+);\s*$"),
        untyped=re.compile(r"\bObject\b|\bdynamic\b|\bMap<"),
    ),
    "csharp": Language(
        models="src/**/Model/*.cs",
        field=re.compile(r"^        public (?P<type>[\w<>,?.\[\] ]+?) (?P<name>\w+) \{ get"),
        untyped=re.compile(r"\b[Oo]bject\b|\bDictionary<"),
        stop=re.compile(r"class \w+JsonConverter\b"),
        skip_type=re.compile(r"^Option<"),
    ),
}


def normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def object_schemas() -> dict[str, int]:
    """Each object schema of the document with its number of properties."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    return {
        name: len(schema["properties"])
        for name, schema in doc.get("components", {}).get("schemas", {}).items()
        if schema.get("type") == "object" and schema.get("properties")
    }


def date_path_operations() -> int:
    """Operations with a path parameter named `date` (each draws the Dart notice once)."""
    doc = json.loads(DOC.read_text(encoding="utf-8"))
    return sum(
        1
        for item in doc["paths"].values()
        for op in item.values()
        if isinstance(op, dict)
        and any(p.get("in") == "path" and p.get("name") == "date" for p in op.get("parameters", []))
    )


def fields(lang: Language, path: Path) -> list[tuple[str, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if lang.stop and lang.stop.search(line):
            break
        m = lang.field.match(line)
        if m and not (lang.skip_type and lang.skip_type.match(m["type"])):
            out.append((m["name"], m["type"].strip()))
    return out


def check(generator: str, out_root: Path) -> list[str]:
    lang = LANGUAGES[generator]
    out = out_root / generator
    log = out_root / f"{generator}.log"
    t0 = time.monotonic()
    shutil.rmtree(out, ignore_errors=True)
    with log.open("w", encoding="utf-8") as f:
        rc = subprocess.call(
            [GENERATOR, "generate", "-g", generator, "-i", str(DOC), "-o", str(out)],
            stdout=f,
            stderr=subprocess.STDOUT,
        )
    problems = []
    if rc != 0:
        problems.append(f"openapi-generator exited {rc}; see {log}")
    quirks = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if generator == "dart" and DART_DATE_QUIRK in line:
            quirks += 1
        elif generator == "dart" and DART_CSV_NOTICE in line and "'text/csv'" in line:
            print(f"  {generator}: notice: {line.split(' - ', 1)[-1].strip()}")
        elif LOG_PROBLEM.search(line) and BETA_NOTICE not in line:
            problems.append(f"generator says: {line.strip()}")
    if quirks:
        leaked = [p.name for p in out.rglob("*.dart") if "ModelDate" in p.read_text(encoding="utf-8")]
        if leaked or quirks != date_path_operations():
            problems.append(f"the Dart `Date` quirk changed the output or came from elsewhere: {leaked}")
        else:
            print(f"  {generator}: {quirks}x the known `date` path parameter notice (no effect on the output)")

    files = {normalize(p.stem.removeprefix("model_")): p for p in out.glob(lang.models)}
    declared = 0
    for schema, count in object_schemas().items():
        path = files.get(normalize(schema))
        if path is None:
            problems.append(f"no model file for schema {schema}")
            continue
        found = fields(lang, path)
        declared += len(found)
        if len(found) != count:
            problems.append(
                f"{path.name}: {len(found)} field declarations read, schema {schema} has {count} "
                f"properties (the field pattern no longer fits the generator's output?)"
            )
        for name, typ in found:
            intended = any(schema == s and normalize(name) == normalize(f) for s, f in INTENDED_UNTYPED)
            if lang.untyped.search(typ) and not intended:
                problems.append(f"{schema}.{name} is generated as `{typ}`: an untyped value or map")
    status = "passed" if not problems else "FAILED"
    print(
        f"  {generator}: {status}: {declared} model fields in {len(files)} model files "
        f"({time.monotonic() - t0:.0f} s)",
        flush=True,
    )
    for p in problems:
        print(f"    - {p}", flush=True)
    return problems


def main() -> int:
    out_root = Path(sys.argv[1])
    out_root.mkdir(parents=True, exist_ok=True)
    generators = sys.argv[2:]
    failed = [g for g in generators if check(g, out_root)]
    print(f"generators: {len(generators) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
