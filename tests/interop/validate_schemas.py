#!/usr/bin/env python3
"""Validates DSSE envelope files against trust-roots/schemas (JSON Schema draft 2020-12) with
Python `jsonschema`: the envelope shape, then the decoded payload against the schema for its
payloadType. Also checks that documents missing required evidence are refused by the schemas.

Usage: validate_schemas.py SCHEMA_DIR ENVELOPE_FILE...
"""

import base64
import copy
import json
import os
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMAS = {
    "application/vnd.cavra.trust-root+json": "trust-root.schema.json",
    "application/vnd.cavra.revocations+json": "revocations.schema.json",
}


def main():
    schema_dir, files = sys.argv[1], sys.argv[2:]
    loaded = {}
    registry = Registry()
    for name in os.listdir(schema_dir):
        if name.endswith(".schema.json"):
            s = json.load(open(os.path.join(schema_dir, name)))
            Draft202012Validator.check_schema(s)
            loaded[name] = s
            registry = registry.with_resource(s["$id"], Resource.from_contents(s))

    def validator(name):
        return Draft202012Validator(loaded[name], registry=registry)

    seen = set()
    for f in files:
        env = json.load(open(f))
        validator("envelope.schema.json").validate(env)
        payload = json.loads(base64.b64decode(env["payload"]))
        schema = SCHEMAS[env["payloadType"]]
        validator(schema).validate(payload)
        seen.add(schema)
        # The schema refuses the same document with a required piece removed.
        broken = copy.deepcopy(payload)
        if schema == "trust-root.schema.json":
            del broken["roles"]["revocation"]
        elif payload["revoked_keys"]:
            del broken["revoked_keys"][0]["approver"]
        else:
            del broken["revoked_artifacts"]
        assert not validator(schema).is_valid(broken), f"{f}: schema accepted a broken copy"
        print(f"ok {f}")
    assert seen == set(SCHEMAS.values()), f"not every schema was exercised: {seen}"


if __name__ == "__main__":
    main()
