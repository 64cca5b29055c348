#!/usr/bin/env python3
"""Build deliberately broken UserSig vectors by tampering with output of the
official PyPI `tls-sig-api-v2` library (fixed clock), self-check every case
with verify_rust.py's decoder, and write them as a pretty JSON array.

    python3 gen_invalid.py --out ../../tests/data/usersig_invalid.json

Record: {"case", "sdkappid", "identifier", "key", "usersig", "expect", "note"}
where "sdkappid"/"identifier"/"key" are what the verifier is asked to check
against, and "expect" is the category it must reject with:
bad_signature | malformed | sdkappid_mismatch | identifier_mismatch.
Cases are chosen so the expected category does not depend on the order in
which a verifier runs its checks (e.g. the sdkappid/identifier-mismatch sigs
are otherwise fully valid official sigs for another app/user).
"""

import argparse
import base64
import json
import sys
import zlib
from unittest import mock

sys.dont_write_bytecode = True  # keep tools/usersig-vectors free of __pycache__

import TLSSigAPIv2 as official
import verify_rust

SDKAPPID = 1400000000
IDENT = "administrator"
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"
TIME = 1700000000
EXPIRE = 86400


def official_sig(sdkappid=SDKAPPID, identifier=IDENT, key=KEY):
    api = official.TLSSigAPIv2(sdkappid, key)
    with mock.patch.object(official.time, "time", lambda: TIME):
        return api.gen_sig(identifier, EXPIRE)


def unpack(sig):
    raw = base64.b64decode(sig.replace("*", "+").replace("-", "/").replace("_", "="))
    return json.loads(zlib.decompress(raw))


def pack_bytes(data):
    """The library's own base64url-with-*-_ encoder."""
    return official.base64_encode_url(data)


def pack_json(doc):
    """Re-encode exactly as the library does: json.dumps -> zlib -> base64url."""
    return pack_bytes(zlib.compress(json.dumps(doc).encode("utf-8")))


def flip_b64_char(s, idx):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    c = s[idx]
    return s[:idx] + alphabet[(alphabet.index(c) + 1) % 64] + s[idx + 1:]


def build():
    good = official_sig()
    doc = unpack(good)
    cases = []

    def add(case, usersig, expect, note, sdkappid=SDKAPPID, identifier=IDENT, key=KEY):
        cases.append({"case": case, "sdkappid": sdkappid, "identifier": identifier, "key": key,
                      "usersig": usersig, "expect": expect, "note": note})

    d = dict(doc)
    d["TLS.sig"] = flip_b64_char(d["TLS.sig"], 0)
    add("bad_signature", pack_json(d), "bad_signature",
        "official sig; first char of TLS.sig changed, JSON re-encoded like the library")

    add("bad_signature", official_sig(key="secret"), "bad_signature",
        "official sig made with key 'secret', checked against the 64-hex key")

    d = dict(doc)
    d["TLS.time"] = TIME + 3600
    add("bad_signature", pack_json(d), "bad_signature",
        "official sig; TLS.time moved forward 3600 s without re-signing")

    add("wrong_sdkappid_claim", official_sig(sdkappid=1400000001), "sdkappid_mismatch",
        "fully valid official sig for sdkappid 1400000001 (same key), checked as 1400000000")

    add("wrong_identifier_claim", official_sig(identifier="admin"), "identifier_mismatch",
        "fully valid official sig for identifier 'admin', checked as 'administrator'")

    add("not_base64", "this is not base64!", "malformed",
        "characters outside the *-_ base64url alphabet")

    add("not_base64", good[:-1], "malformed",
        "official sig with its last character cut off (length not a multiple of 4)")

    add("not_zlib", pack_bytes(b"definitely not a zlib stream"), "malformed",
        "valid base64url of bytes that are not a zlib stream")

    raw_deflate = zlib.compressobj(wbits=-15)
    raw = raw_deflate.compress(json.dumps(doc).encode("utf-8")) + raw_deflate.flush()
    add("not_zlib", pack_bytes(raw), "malformed",
        "raw deflate (RFC 1951, no zlib header/Adler-32) of the valid official JSON")

    z = zlib.compress(json.dumps(doc).encode("utf-8"))
    add("not_zlib", pack_bytes(z[: len(z) // 2]), "malformed",
        "official zlib stream truncated to half its length")

    add("not_json", pack_bytes(zlib.compress(b"TLS.ver=2.0&TLS.identifier=administrator")), "malformed",
        "valid zlib of text that is not JSON")

    add("not_json", pack_bytes(zlib.compress(b'["TLS.ver", "2.0"]')), "malformed",
        "valid zlib of JSON whose top level is an array, not an object")

    d = dict(doc)
    del d["TLS.sig"]
    add("missing_field", pack_json(d), "malformed", "official JSON with TLS.sig removed")

    d = dict(doc)
    del d["TLS.time"]
    add("missing_field", pack_json(d), "malformed", "official JSON with TLS.time removed")

    return cases


def self_check(cases):
    ok = True
    for c in cases:
        try:
            verify_rust.verify_record(c)
            got = "ok"
        except verify_rust.Reject as r:
            got = r.category
        if got != c["expect"]:
            ok = False
            sys.stderr.write(f"self-check FAILED: {c['case']} ({c['note']}): got {got}, expect {c['expect']}\n")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="write here (default: stdout)")
    a = ap.parse_args(argv)
    cases = build()
    if not self_check(cases):
        return 1
    text = json.dumps(cases, ensure_ascii=False, indent=2) + "\n"
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    sys.stderr.write(f"gen_invalid.py: {len(cases)} invalid vectors, all rejected as expected\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
