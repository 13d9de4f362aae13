#!/usr/bin/env python3
"""Release-governance files (formats §8) made by independent tools: OIDC JWTs minted by PyJWT
with `cryptography` keys (RS256 and ES256), the daemon's hash-chained HMAC evidence and DSSE
HMAC runner claims made with `hmac`/`hashlib`, and the verification report recomputed here.

  governance.py make OUT_DIR           -> JSON on stdout: secrets, JWKS, file sets per case
  governance.py report LOG KEY_ID=HEX  -> the report (formats §8.7) this script computes for LOG

The Rust test (tests/tests/interop_governance.rs) builds bundles from these files and checks
the verdicts, and compares Airlock's report with this script's.
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

PACKAGE = "cavra-go-runtime"
VERSION = "v0.1.0"
REF = "refs/tags/v0.1.0"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
ISS = "https://token.actions.githubusercontent.com"
AUD = "cavra-release-governance"
WORKFLOW = "cavra/cavra/.github/workflows/release.yml@refs/tags/v0.1.0"
RUNNER_ID = "ci-runner-2026-q2"
EVIDENCE_ID = "ci-evidence-2026-q2"
DIR = ".cavra/go-daemon/"


def b64(b):
    return base64.b64encode(b).decode()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def evidence_log(secret, key_id, t, events):
    """Records per formats §8.5: compact JSON, sig last, HMAC over the line without it."""
    out, prev = b"", "0" * 64
    for seq, (event, fields) in enumerate(events, 1):
        rec = {"seq": seq, "prev": prev, "time": rfc3339(t), "event": event, "key_id": key_id}
        rec.update(fields)
        signed = compact(rec).encode()
        tag = hmac.new(secret, signed, hashlib.sha256).digest()
        line = signed[:-1] + b',"sig":"' + b64(tag).encode() + b'"}'
        prev = hashlib.sha256(line).hexdigest()
        out += line + b"\n"
    return out


def recompute_report(log, secrets, verified_at):
    """The report (formats §8.7), computed independently: chain, HMACs, digests, key ids."""
    lines = log.split(b"\n")
    ok_lf = log.endswith(b"\n")
    if ok_lf:
        lines = lines[:-1]
    chain = sigs = ok_lf
    prev = "0" * 64
    key_ids = set()
    for n, line in enumerate(lines, 1):
        marker = line.rfind(b',"sig":"')
        try:
            rec = json.loads(line)
            tag = base64.b64decode(rec["sig"], validate=True)
            if marker < 0 or not line.endswith(b'"}') or len(tag) != 32:
                raise ValueError
        except Exception:
            chain = sigs = False
            prev = hashlib.sha256(line).hexdigest()
            continue
        if rec.get("seq") != n or rec.get("prev") != prev:
            chain = False
        key_ids.add(rec.get("key_id"))
        secret = secrets.get(rec.get("key_id"))
        if secret is not None:
            want = hmac.new(secret, line[:marker] + b"}", hashlib.sha256).digest()
            if not hmac.compare_digest(want, tag):
                sigs = False
        prev = hashlib.sha256(line).hexdigest()
    return {
        "_type": "cavra-governance-evidence-verification",
        "evidence_sha256": hashlib.sha256(log).hexdigest(),
        "records": len(lines),
        "head": hashlib.sha256(lines[-1]).hexdigest() if lines else "",
        "chain": "valid" if chain else "invalid",
        "signatures": "valid" if sigs else "invalid",
        "key_ids": sorted(k for k in key_ids if isinstance(k, str)),
        "verified_at": verified_at,
    }


def daemon_files(identity_files, runner_fields, secret, t):
    response = json.dumps({
        "_type": "cavra-release-governance-response", "package": PACKAGE, "version": VERSION,
        "commit": COMMIT, "decision": "allow",
        "checks": [{"id": "provenance", "status": "pass"}, {"id": "signatures", "status": "pass"}],
        "evaluated_at": rfc3339(t)}, indent=2).encode() + b"\n"
    log = evidence_log(secret, EVIDENCE_ID, t, [
        ("runtime-package-verified", {"package": PACKAGE, "version": VERSION, "sha256": "ab" * 32}),
        ("runner-authenticated", runner_fields),
        ("release-governance-checked", {
            "package": PACKAGE, "version": VERSION, "commit": COMMIT, "decision": "allow",
            "response_sha256": hashlib.sha256(response).hexdigest()}),
    ])
    report = recompute_report(log, {EVIDENCE_ID: secret}, rfc3339(t))
    files = dict(identity_files)
    files[DIR + "release-governance-response.json"] = response
    files[DIR + "release-governance-evidence.jsonl"] = log
    files[DIR + "release-governance-evidence-verification.json"] = json.dumps(report).encode()
    return files


def oidc_case(token, claims, retain, secret, t):
    sha = hashlib.sha256(token.encode()).hexdigest()
    doc = {"_type": "cavra-runner-auth-claims", "mode": "oidc",
           "token": "retained" if retain else "redacted", "token_sha256": sha, "claims": claims}
    files = {DIR + "runner-auth-claims.json": json.dumps(doc, indent=2).encode()}
    if retain:
        files[DIR + "runner-oidc-token.jwt"] = token.encode() + b"\n"
    return daemon_files(files, {"mode": "oidc", "token_sha256": sha, "claims": claims}, secret, t)


def make(out):
    t = int(time.time()) - 300
    evidence_secret = os.urandom(32).hex().encode()
    runner_secret = os.urandom(32).hex().encode()
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    rsa_jwk = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    rsa_jwk.update({"kid": "py-rsa", "use": "sig", "alg": "RS256"})
    ec_jwk = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    ec_jwk.update({"kid": "py-ec"})
    claims = {"iss": ISS, "aud": AUD, "sub": "repo:cavra/cavra:ref:" + REF,
              "repository": "cavra/cavra", "workflow_ref": WORKFLOW, "ref": REF, "sha": COMMIT,
              "iat": t - 60, "exp": t + 240}

    def mint(c, key, alg, kid):
        return jwt.encode(c, key, algorithm=alg, headers={"kid": kid})

    cases = {}
    cases["rs256"] = ("promote", oidc_case(mint(claims, rsa_key, "RS256", "py-rsa"), claims, True, evidence_secret, t))
    cases["es256"] = ("promote", oidc_case(mint(claims, ec_key, "ES256", "py-ec"), claims, True, evidence_secret, t))
    cases["es256-redacted"] = ("promote", oidc_case(mint(claims, ec_key, "ES256", "py-ec"), claims, False, evidence_secret, t))
    # Attacks, each with a claims file that matches its token.
    none_tok = jwt.encode(claims, None, algorithm="none", headers={"kid": "py-rsa"})
    cases["alg-none"] = ("runner-identity-invalid", oidc_case(none_tok, claims, True, evidence_secret, t))
    # HS256 keyed with the pinned RSA public key (algorithm confusion), made with hmac directly:
    # PyJWT itself refuses a PEM key as an HMAC secret.
    from cryptography.hazmat.primitives import serialization
    pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = b64url(compact({"alg": "HS256", "kid": "py-rsa", "typ": "JWT"}).encode()) + "." + b64url(compact(claims).encode())
    hs = signing_input + "." + b64url(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())
    cases["hs256-confusion"] = ("runner-identity-invalid", oidc_case(hs, claims, True, evidence_secret, t))
    cases["unknown-kid"] = ("runner-identity-invalid", oidc_case(mint(claims, ec_key, "ES256", "py-unknown"), claims, True, evidence_secret, t))
    other_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cases["unpinned-rsa-key"] = ("runner-identity-invalid", oidc_case(mint(claims, other_rsa, "RS256", "py-rsa"), claims, True, evidence_secret, t))
    for name, change in [("wrong-issuer", {"iss": "https://gitlab.example"}),
                         ("wrong-audience-string", {"aud": "sts.amazonaws.com"}),
                         ("wrong-audience-array", {"aud": ["sts.amazonaws.com", "other"]}),
                         ("lifetime-over-an-hour", {"exp": t - 60 + 3601})]:
        c = dict(claims, **change)
        cases[name] = ("runner-identity-invalid", oidc_case(mint(c, rsa_key, "RS256", "py-rsa"), c, True, evidence_secret, t))
    c = dict(claims, aud=["other", AUD])
    cases["audience-array-ok"] = ("promote", oidc_case(mint(c, rsa_key, "RS256", "py-rsa"), c, True, evidence_secret, t))
    c = dict(claims, workflow_ref="cavra/cavra/.github/workflows/evil.yml@" + REF)
    cases["wrong-workflow"] = ("runner-identity-mismatch", oidc_case(mint(c, rsa_key, "RS256", "py-rsa"), c, True, evidence_secret, t))
    # HMAC runner claims in DSSE, signed with hmac.
    hclaims = {"iss": "cavra-runner", "sub": "runner-7", "repository": "cavra/cavra",
               "workflow_ref": WORKFLOW, "ref": REF, "sha": COMMIT, "iat": t - 60}
    payload = compact(hclaims).encode()
    ptype = "application/vnd.cavra.runner-claims+json"
    sig = hmac.new(runner_secret, pae(ptype, payload), hashlib.sha256).digest()
    doc = {"_type": "cavra-runner-auth-claims", "mode": "hmac", "envelope": {
        "payloadType": ptype, "payload": b64(payload), "signatures": [{"keyid": RUNNER_ID, "sig": b64(sig)}]}}
    cases["hmac"] = ("promote", daemon_files(
        {DIR + "runner-auth-claims.json": json.dumps(doc).encode()},
        {"mode": "hmac", "key_id_runner": RUNNER_ID, "claims": hclaims}, evidence_secret, t))
    result = {
        "evidence_secret": evidence_secret.decode(), "runner_secret": runner_secret.decode(),
        "jwks": {"keys": [rsa_jwk, ec_jwk]},
        "cases": {},
    }
    for name, (want, files) in cases.items():
        d = os.path.join(out, name)
        for rel, data in files.items():
            p = os.path.join(d, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(data)
        result["cases"][name] = {"dir": d, "want": want}
    print(json.dumps(result))


def main():
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "report":
        with open(sys.argv[2], "rb") as f:
            log = f.read()
        secrets = {}
        for spec in sys.argv[3:]:
            k, v = spec.split("=", 1)
            secrets[k] = v.encode()
        print(json.dumps(recompute_report(log, secrets, "1970-01-01T00:00:00Z")))


if __name__ == "__main__":
    main()
