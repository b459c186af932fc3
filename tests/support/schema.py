"""Validation of route responses against tb_saliency/http_schema.json, the contract the dashboard's
types come from."""

import functools
import json
import pathlib

import tb_saliency

# The schema the package under test ships (the source tree's, or an installed copy's).
SCHEMA_FILE = pathlib.Path(tb_saliency.__file__).resolve().parent / "http_schema.json"


@functools.lru_cache(maxsize=None)
def _validator(definition):
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{definition}"})


def validate(document, definition):
    """Raises jsonschema.ValidationError unless `document` is a valid `definition` ("Tags", "Steps",
    "Frame", "Error"); returns the document."""
    _validator(definition).validate(document)
    return document


ROUTE_DEFINITIONS = {"tags": "Tags", "steps": "Steps", "frame": "Frame"}
