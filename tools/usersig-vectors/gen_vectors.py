#!/usr/bin/env python3
"""Generate UserSig test vectors with Tencent's official PyPI `tls-sig-api-v2`
library under a fixed clock, optionally merge the Node vectors produced by
gen_vectors.js, and write the combined, pretty-printed JSON array.

    python3 gen_vectors.py                                  # python vectors -> stdout
    python3 gen_vectors.py --merge node.json --out FILE     # python + node -> FILE

Cases come from cases.json next to this script. The clock is fixed by
patching `time.time` (the library calls `int(time.time())`); it returns
`case.time + 0.999` so the vectors also pin down that the library floors.
A per-library observation summary (JSON key order, zlib header) goes to stderr.
"""

import argparse
import base64
import json
import os
import sys
import zlib
from unittest import mock

import TLSSigAPIv2 as official  # PyPI: tls-sig-api-v2

try:
    from importlib.metadata import version as _pkg_version
    VERSION = _pkg_version("tls-sig-api-v2")
except Exception:  # pragma: no cover
    VERSION = "unknown"

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = f"python tls-sig-api-v2 {VERSION}"
FIELDS = ("source", "sdkappid", "identifier", "key", "time", "expire", "userbuf_b64", "usersig")


def load_cases(path=None):
    with open(path or os.path.join(HERE, "cases.json"), encoding="utf-8") as fh:
        return json.load(fh)


def gen_one(case):
    """Call the official library with the clock frozen at case['time'] (+0.999 s)."""
    api = official.TLSSigAPIv2(case["sdkappid"], case["key"])
    with mock.patch.object(official.time, "time", lambda: case["time"] + 0.999):
        if case.get("userbuf_b64") is None:
            return api.gen_sig(case["identifier"], case["expire"])
        return api.gen_sig_with_userbuf(case["identifier"], case["expire"],
                                        base64.b64decode(case["userbuf_b64"]))


def decode(usersig):
    raw = base64.b64decode(usersig.replace("*", "+").replace("-", "/").replace("_", "="))
    body = zlib.decompress(raw)
    return raw[:2].hex(), body.decode("utf-8"), json.loads(body)


def make_vectors(cases):
    out = []
    for c in cases:
        sig = gen_one(c)
        _, _, doc = decode(sig)
        # Sanity: the frozen clock and inputs made it into the sig.
        assert doc["TLS.time"] == c["time"], (doc, c)
        assert doc["TLS.expire"] == c["expire"] and doc["TLS.sdkappid"] == c["sdkappid"], (doc, c)
        assert doc["TLS.identifier"] == c["identifier"], (doc, c)
        assert doc.get("TLS.userbuf") == c.get("userbuf_b64"), (doc, c)
        vec = {
            "source": SOURCE,
            "sdkappid": c["sdkappid"],
            "identifier": c["identifier"],
            "key": c["key"],
            "time": c["time"],
            "expire": c["expire"],
            "userbuf_b64": c.get("userbuf_b64"),
            "usersig": sig,
        }
        out.append(vec)
    return out


def observations(vectors):
    """Summarise per source: zlib headers, key orders, a sample JSON text."""
    by_src = {}
    for v in vectors:
        hdr, text, doc = decode(v["usersig"])
        s = by_src.setdefault(v["source"], {"zlib_headers": set(), "key_orders": set(), "samples": []})
        s["zlib_headers"].add(hdr)
        s["key_orders"].add(",".join(doc.keys()))
        if not s["samples"]:
            s["samples"].append(text)
        elif len(s["samples"]) == 1 and ("\\u" in text or not text.isascii()):
            s["samples"].append(text)  # shows how non-ASCII identifiers are escaped
    lines = []
    for src, s in by_src.items():
        lines.append(f"[{src}] zlib headers: {sorted(s['zlib_headers'])}")
        for ko in sorted(s["key_orders"]):
            lines.append(f"[{src}] key order: {ko}")
        for t in s["samples"]:
            lines.append(f"[{src}] sample JSON: {t}")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", help="cases file (default: cases.json beside this script)")
    ap.add_argument("--merge", action="append", default=[],
                    help="JSON array of vectors from another generator (gen_vectors.js) to append")
    ap.add_argument("--out", help="write the combined array here (default: stdout)")
    a = ap.parse_args(argv)

    vectors = make_vectors(load_cases(a.cases))
    for path in a.merge:
        with open(path, encoding="utf-8") as fh:
            extra = json.load(fh)
        for v in extra:
            if tuple(v.keys()) != FIELDS:
                raise SystemExit(f"{path}: unexpected vector keys {list(v.keys())}")
        vectors.extend(extra)

    text = json.dumps(vectors, ensure_ascii=False, indent=2) + "\n"
    if a.out:
        with open(a.out, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    sys.stderr.write(observations(vectors) + "\n")
    sys.stderr.write(f"gen_vectors.py: {len(vectors)} vectors\n")


if __name__ == "__main__":
    main()
