"""The published contract is valid AsyncAPI 3.0 (issue 5, finding 9): each generated document
passes the specification's own JSON schema, every ``$ref`` in it resolves against the document
root, and, where Node and ``@asyncapi/parser`` 3.x are installed, the official parser reports no
error. Integrators' generators and AsyncAPI Studio load these files; a dangling reference breaks them.

The parser is looked up in ``.venv/node`` (where ``make`` installs it when npm is present), then
``NODE_PATH`` and npm's global folder. Nothing here touches the network."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
import pytest
from jianfu.cli.asyncapi import SERVICES, write_documents
from jianfu.events.settings import Settings

ROOT = Path(__file__).parents[2]
# From the npm package @asyncapi/specs (see tests/vendor/README.md for version and origin).
SPEC_SCHEMA = ROOT / "tests" / "vendor" / "asyncapi-3.0.0.schema.json"

# Parses each file named on the command line; prints {file: [errors]} (severity 0 is an error).
PARSE_WITH_OFFICIAL_PARSER = """
const fs = require('fs');
const { Parser } = require('@asyncapi/parser');
(async () => {
  const parser = new Parser();
  const found = {};
  for (const file of process.argv.slice(1)) {
    const { diagnostics } = await parser.parse(fs.readFileSync(file, 'utf8'), { source: file });
    found[file] = diagnostics.filter((d) => d.severity === 0)
      .map((d) => `${d.code} at ${d.path.join('/')}: ${d.message}`);
  }
  process.stdout.write(JSON.stringify(found));
})().catch((error) => { console.error(error); process.exit(1); });
"""


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """The files ``jianfu asyncapi`` writes, generated afresh from the code."""
    paths = write_documents(tmp_path_factory.mktemp("asyncapi"), Settings())
    return {path.stem: path for path in paths}


def references(node: Any, at: str = "#") -> Iterator[tuple[str, str]]:
    """Every ``$ref`` in a document, with the pointer to where it stands."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield at, node["$ref"]
        for key, value in node.items():
            yield from references(value, f"{at}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from references(value, f"{at}/{n}")


def local_definitions(node: Any, at: str = "#") -> Iterator[str]:
    """Where a schema carries its own ``$defs``, which AsyncAPI tools do not resolve against."""
    if isinstance(node, dict):
        if isinstance(node.get("$defs"), dict):
            yield at
        for key, value in node.items():
            yield from local_definitions(value, f"{at}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from local_definitions(value, f"{at}/{n}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a JSON pointer in the same document (RFC 6901); KeyError if nothing is there."""
    if not ref.startswith("#/"):
        raise KeyError(f"{ref} does not point into this document")
    node: Any = document
    for token in unquote(ref[2:]).split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


def dangling(document: dict[str, Any]) -> list[str]:
    """The references that resolve to nothing, as "where -> what"."""
    broken = []
    for at, ref in references(document):
        try:
            resolve(document, ref)
        except (KeyError, IndexError, ValueError, TypeError):
            broken.append(f"{at} -> {ref}")
    return broken


@pytest.mark.parametrize("service", SERVICES)
def test_document_is_valid_against_the_asyncapi_3_schema(generated, service):
    validator = jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text()))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(
        json.loads(generated[service].read_text()))]
    assert errors == []


def test_the_vendored_schema_refuses_a_document_that_is_not_asyncapi_3():
    """Guards the test above: a schema that accepted anything would make it pass vacuously."""
    validator = jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text()))
    assert not validator.is_valid({"asyncapi": "2.6.0", "info": {"title": "t", "version": "1"}})
    assert not validator.is_valid({"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"},
                                   "channels": {"c": {"address": 7}}})


@pytest.mark.parametrize("service", SERVICES)
def test_every_reference_resolves_against_the_document_root(generated, service):
    document = json.loads(generated[service].read_text())
    assert list(references(document)), "a document with no reference would prove nothing here"
    assert dangling(document) == []


@pytest.mark.parametrize("service", SERVICES)
def test_shared_schemas_live_in_components_not_in_message_payloads(generated, service):
    document = json.loads(generated[service].read_text())
    assert list(local_definitions(document)) == []
    schema_refs = [ref for _, ref in references(document) if ref.startswith("#/components/schemas/")]
    assert schema_refs and set(document["components"]["schemas"]) >= {ref.rsplit("/", 1)[1] for ref in schema_refs}


def test_a_reference_into_a_payloads_own_defs_is_reported_dangling():
    """Finding 9's shape: pydantic's ``$defs`` pasted into a payload, its refs pointing at the root."""
    payload = {"$defs": {"Actor": {"type": "object"}}, "properties": {"actor": {"$ref": "#/$defs/Actor"}}}
    document = {"components": {"messages": {"Event": {"payload": payload}}}}
    assert dangling(document) == ["#/components/messages/Event/payload/properties/actor -> #/$defs/Actor"]
    assert list(local_definitions(document)) == ["#/components/messages/Event/payload"]


def _node_search_path() -> str:
    """NODE_PATH as set, plus npm's global folder, so a parser installed either way is found."""
    folders = [p for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p]
    folders.append(str(ROOT / ".venv" / "node" / "node_modules"))  # where `make` installs it
    if shutil.which("npm"):
        npm_root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=30)
        folders += [npm_root.stdout.strip()] if npm_root.returncode == 0 else []
    return os.pathsep.join(folders)


def _official_parser_env() -> dict[str, str]:
    """The environment to run the parser in; skips the test when Node or parser 3.x is missing."""
    if shutil.which("node") is None:
        pytest.skip("Node is not installed: the official AsyncAPI parser cannot run here")
    env = {**os.environ, "NODE_PATH": _node_search_path()}
    found = subprocess.run(["node", "-p", "require('@asyncapi/parser/package.json').version"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    if found.returncode != 0:
        pytest.skip("@asyncapi/parser is not installed (set NODE_PATH to a node_modules holding it)")
    if not found.stdout.startswith("3."):
        pytest.skip(f"@asyncapi/parser {found.stdout.strip()} is installed; this check needs 3.x")
    return env


@pytest.fixture(scope="module")
def official_parser_errors(generated) -> dict[str, list[str]]:
    env = _official_parser_env()
    files = [str(generated[service]) for service in SERVICES]
    parsed = subprocess.run(["node", "-e", PARSE_WITH_OFFICIAL_PARSER, *files],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert parsed.returncode == 0, parsed.stderr
    by_file = json.loads(parsed.stdout)
    return {service: by_file[str(generated[service])] for service in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_the_official_asyncapi_parser_reports_no_error(official_parser_errors, service):
    assert official_parser_errors[service] == []
