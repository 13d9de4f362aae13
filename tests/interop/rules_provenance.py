#!/usr/bin/env python3
"""Writes a provenance envelope for `rules_provenance.rs` with independent tools: the in-toto
Statement v1 / SLSA Provenance v1 document is built here, and signed either through
`securesystemslib`'s DSSE (mode "pae", what a real CI would do) or, for the negative case, with a
few lines of Python `cryptography` over the BARE payload instead of PAE (mode "bare").

Nothing here imports Airlock. Usage: rules_provenance.py SPEC.json, where SPEC holds
{"seed_hex", "keyid", "artifacts": [{"name", "sha256"}], "commit", "ref", "repo", "builder", "mode"}.
Prints the envelope JSON on stdout.
"""

import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner, SSlibKey

from make_bundle import IN_TOTO, b64


def statement(spec):
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": a["name"], "digest": {"sha256": a["sha256"]}} for a in spec["artifacts"]],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                "externalParameters": {"workflow": {"ref": spec["ref"], "repository": spec["repo"],
                                                    "path": ".github/workflows/release.yml"}},
                "internalParameters": {"github": {"event_name": "release"}},
                "resolvedDependencies": [{"uri": "git+%s@%s" % (spec["repo"], spec["ref"]),
                                          "digest": {"gitCommit": spec["commit"]}}],
            },
            "runDetails": {"builder": {"id": spec["builder"]},
                           "metadata": {"invocationId": "python-interop"}},
        },
    }


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(spec["seed_hex"]))
    body = json.dumps(statement(spec), separators=(",", ":")).encode()
    if spec["mode"] == "pae":
        signer = CryptoSigner(key, SSlibKey.from_crypto(key.public_key(), keyid=spec["keyid"]))
        env = Envelope(payload=body, payload_type=IN_TOTO, signatures={})
        env.sign(signer)
        out = env.to_dict()
    elif spec["mode"] == "bare":
        out = {"payloadType": IN_TOTO, "payload": b64(body),
               "signatures": [{"keyid": spec["keyid"], "sig": b64(key.sign(body))}]}
    else:
        raise SystemExit("mode is pae or bare")
    sys.stdout.write(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
