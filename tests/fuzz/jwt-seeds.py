#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpus of fuzz_jwt (tests/fuzz/corpus/jwt/).

The first byte of each seed picks the fuzzer's mode (see fuzz_jwt.c): 0 a token, 1 a JWK Set,
2 a token payload that the fuzzer signs. Keys are made here with the standard library only: the
P-256 points are multiples of the generator, the RSA modulus a product of two primes from a
fixed seed, so the files are the same on every run.

    tests/fuzz/jwt-seeds.py            # rewrite tests/fuzz/corpus/jwt
    tests/fuzz/jwt-seeds.py --check    # fail when the files differ or extra ones exist
    tests/fuzz/jwt-seeds.py --out DIR  # write elsewhere
"""
import argparse
import base64
import json
import os
import random
import sys

# P-256 (FIPS 186-4 D.1.2.3).
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
A = P - 3
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5


def ec_double_add(k):
    """k·G in affine coordinates (plain double-and-add; seeds need no constant time)."""
    def add(p1, p2):
        if p1 is None:
            return p2
        if p2 is None:
            return p1
        (x1, y1), (x2, y2) = p1, p2
        if x1 == x2 and (y1 + y2) % P == 0:
            return None
        if p1 == p2:
            m = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
        else:
            m = (y2 - y1) * pow(x2 - x1, -1, P) % P
        x3 = (m * m - x1 - x2) % P
        return x3, (m * (x1 - x3) - y1) % P

    result, addend = None, (GX, GY)
    while k:
        if k & 1:
            result = add(result, addend)
        addend = add(addend, addend)
        k >>= 1
    return result


def is_probable_prime(n, rng):
    if n < 2 or n % 2 == 0:
        return n == 2
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(24):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def prime(bits, rng):
    while True:
        c = rng.getrandbits(bits) | (1 << (bits - 1)) | (1 << (bits - 2)) | 1
        if c % 65537 != 1 and is_probable_prime(c, rng):
            return c


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_json(obj_or_text):
    text = obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text,
                                                                       separators=(",", ":"))
    return b64u(text.encode())


def ec_jwk(kid, k, **extra):
    x, y = ec_double_add(k)
    d = {"kty": "EC", "crv": "P-256", "kid": kid, "x": b64u(x.to_bytes(32, "big")),
         "y": b64u(y.to_bytes(32, "big"))}
    d.update(extra)
    return d


def seeds():
    rng = random.Random(20240601)
    n = prime(1024, rng) * prime(1024, rng)
    rsa = {"kty": "RSA", "kid": "rsa", "n": b64u(n.to_bytes(256, "big")), "e": "AQAB"}
    out = {}

    def put(name, mode, body):
        out[name] = bytes([mode]) + (body.encode() if isinstance(body, str) else body)

    # ---- mode 0: tokens against the fuzzer's keys ("k" EC, "r" RSA) ----
    claims = {"iss": "iss", "aud": "aud", "aid": "acc", "roles": ["Client"], "iat": 1700000000,
              "exp": 1700086400, "jti": "j"}
    sig64 = b64u(bytes(range(64)))
    sig256 = b64u(bytes(i % 251 for i in range(256)))
    tok = lambda h, c, s: "%s.%s.%s" % (b64u_json(h), b64u_json(c), s)
    put("token-es256", 0, tok({"alg": "ES256", "kid": "k", "typ": "JWT"}, claims, sig64))
    put("token-rs256", 0, tok({"alg": "RS256", "kid": "r", "typ": "JWT"}, claims, sig256))
    put("token-zero-sig", 0, tok({"alg": "ES256", "kid": "k"}, claims, b64u(bytes(64))))
    put("token-none", 0, tok({"alg": "none", "kid": "k"}, claims, ""))
    put("token-hs256", 0, tok({"alg": "HS256", "kid": "r"}, claims, b64u(bytes(32))))
    put("token-mismatch", 0, tok({"alg": "RS256", "kid": "k"}, claims, sig256))
    put("token-crit", 0, tok({"alg": "ES256", "kid": "k", "crit": ["x"]}, claims, sig64))
    put("token-dup", 0, tok('{"alg":"ES256","alg":"ES256","kid":"k"}', claims, sig64))
    put("token-four-parts", 0, tok({"alg": "ES256", "kid": "k"}, claims, sig64) + ".e30")
    put("token-padding", 0, tok({"alg": "ES256", "kid": "k"}, claims, sig64) + "==")
    put("token-unknown-kid", 0, tok({"alg": "ES256", "kid": "zz"}, claims, sig64))

    # ---- mode 1: JWK Sets ----
    jwks = lambda *keys: json.dumps({"keys": list(keys)})
    put("jwks-ec", 1, jwks(ec_jwk("g", 1)))
    put("jwks-ec-rsa", 1, jwks(ec_jwk("g2", 2, use="sig", alg="ES256"), rsa))
    put("jwks-skipped", 1, jwks(ec_jwk("p", 3, crv="P-384"), ec_jwk("e", 4, use="enc"),
                                {"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": "AA"},
                                ec_jwk("ok", 5)))
    put("jwks-not-on-curve", 1, jwks(dict(ec_jwk("g", 1), y=ec_jwk("g", 2)["y"])))
    put("jwks-dup-kid", 1, jwks(ec_jwk("g", 1), ec_jwk("g", 2)))
    put("jwks-private", 1, jwks(dict(ec_jwk("g", 1), d="AQ")))
    put("jwks-short-rsa", 1, jwks(dict(rsa, n=b64u((n >> 1100 | 1).to_bytes(120, "big")))))
    put("jwks-even-e", 1, jwks(dict(rsa, e="AQAA")))
    put("jwks-empty", 1, jwks())
    put("jwks-many", 1, jwks(*[ec_jwk("k%d" % i, i + 1) for i in range(8)]))

    # ---- mode 2: payloads the fuzzer signs ----
    put("payload-good", 2, json.dumps(claims))
    put("payload-admin-aud-array", 2, json.dumps(dict(claims, aud=["x", "aud"],
                                                      roles=["Reader", "Administrator"])))
    put("payload-real-dates", 2, '{"iss":"iss","aud":"aud","aid":"acc","roles":["Client"],'
                                 '"nbf":1699999999.5,"exp":1700000030.25}')
    put("payload-expired", 2, json.dumps(dict(claims, exp=1699990000)))
    put("payload-future", 2, json.dumps(dict(claims, nbf=1800000000)))
    put("payload-wrong-iss", 2, json.dumps(dict(claims, iss="other")))
    put("payload-wrong-aid", 2, json.dumps(dict(claims, aid="other")))
    put("payload-no-role", 2, json.dumps(dict(claims, roles=[])))
    put("payload-no-exp", 2, json.dumps({k: v for k, v in claims.items() if k != "exp"}))
    put("payload-dup", 2, '{"exp":1700086400,"exp":1700086400}')
    put("payload-types", 2, '{"exp":"1700086400","roles":"Client","aud":5}')
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out", default=os.path.join(here, "corpus", "jwt"))
    args = ap.parse_args()
    want = seeds()
    if args.check:
        have = set(os.listdir(args.out)) if os.path.isdir(args.out) else set()
        stale = sorted(have - set(want))
        for name, blob in sorted(want.items()):
            path = os.path.join(args.out, name)
            if not os.path.exists(path) or open(path, "rb").read() != blob:
                stale.append(name)
        if stale:
            print("corpus/jwt is not what jwt-seeds.py writes: %s" % ", ".join(stale))
            return 1
        return 0
    os.makedirs(args.out, exist_ok=True)
    for name, blob in want.items():
        with open(os.path.join(args.out, name), "wb") as f:
            f.write(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
