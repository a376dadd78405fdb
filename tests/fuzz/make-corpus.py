#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed corpora of the fuzz targets (tests/fuzz/corpus/{http,record,stream_wire}/).

The seeds are committed so that a clean clone can fuzz without Python; this script is where
they come from, so a seed is changed here and the files rewritten, never edited by hand.

    tests/fuzz/make-corpus.py                # rewrite tests/fuzz/corpus
    tests/fuzz/make-corpus.py --check        # fail when the files differ or extra ones exist
    tests/fuzz/make-corpus.py --out DIR      # write elsewhere
"""
import argparse
import os
import struct
import sys

UPGRADE = b"openrr-remoting/1"
TOKEN = b"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJwbGF5ZXIifQ.c2lnbmF0dXJl"


def request(extra=b""):
    # The exact request client_queue_request() in src/remoting/handshake.c builds.
    return (b"GET /openrr/remoting HTTP/1.1\r\n"
            b"Host: [::1]:8265\r\n"
            b"Connection: Upgrade\r\n"
            b"Upgrade: " + UPGRADE + b"\r\n"
            b"OpenRR-Role: remote\r\n"
            b"OpenRR-Transports: tcp\r\n"
            b"OpenRR-Codecs: h264, hevc,av1\r\n" + extra + b"\r\n")


def http_seeds():
    seeds = {
        "request-no-auth": request(),
        "request-bearer": request(b"Authorization: Bearer " + TOKEN + b"\r\n"),
        "request-bearer-lowercase": request(b"authorization: bearer   " + TOKEN + b"\r\n"),
        "response-101": (b"HTTP/1.1 101 Switching Protocols\r\n"
                         b"Connection: Upgrade\r\n"
                         b"Upgrade: " + UPGRADE + b"\r\n"
                         b"OpenRR-Role: player\r\n"
                         b"OpenRR-Transport: tcp\r\n"
                         b"OpenRR-Transport-Port: 8266\r\n"
                         b"OpenRR-Codec: h264\r\n"
                         b"OpenRR-Connection-Id: 00112233445566778899aabbccddeeff\r\n\r\n"),
        # server_challenge(): an escaped realm and the invalid_token error.
        "response-401-invalid-token": (
            b"HTTP/1.1 401 Unauthorized\r\n"
            b"Connection: close\r\n"
            b"Content-Length: 0\r\n"
            b"OpenRR-Error: AuthenticationFailed\r\n"
            b"WWW-Authenticate: Bearer realm=\"OpenRR \\\"Remoting\\\" \\\\ lab\", "
            b"error=\"invalid_token\"\r\n\r\n"),
        "response-401-plain": (b"HTTP/1.1 401 Unauthorized\r\n"
                               b"Connection: keep-alive\r\n"
                               b"WWW-Authenticate: Bearer realm=OpenRR,scope=x\r\n\r\n"),
        "response-403-error": (b"HTTP/1.1 403 Forbidden\r\n"
                               b"Connection: close\r\n"
                               b"OpenRR-Error: RemotingVersionMismatch\r\n\r\n"),
        "response-no-reason": b"HTTP/1.1 200\r\nX: \t y \t\r\n\r\n",
        # Malformed or refused heads: each one reaches a different early exit.
        "bad-bare-lf": b"GET / HTTP/1.1\nHost: x\n\n",
        "bad-folding": b"GET / HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n",
        "bad-no-colon": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
        "bad-name-char": b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
        "bad-ctl-value": b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n",
        "bad-nul": b"GET / HTTP/1.1\r\nHost: \x00\r\n\r\n",
        "bad-version": b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
        "bad-status": b"HTTP/1.1 2x0 OK\r\n\r\n",
        "bad-tls-hello": bytes.fromhex("16030100a5010000a10303") + bytes(range(32)),
        "incomplete": b"GET /openrr/remoting HTTP/1.1\r\nHost: x\r\n",
        "too-many-headers": (b"GET / HTTP/1.1\r\n" +
                             b"".join(b"H%d: v\r\n" % i for i in range(33)) + b"\r\n"),
    }
    return seeds


def record(channel, flags, payload, reserved=0):
    return struct.pack(">BBHI", channel, flags, reserved, len(payload)) + payload


FIRST, LAST = 0x01, 0x02
CONTROL = 128


def record_seeds():
    keepalive = record(CONTROL, FIRST | LAST, b"\x01" + struct.pack(">Q", 1234567890123))
    ack = record(CONTROL, FIRST | LAST, b"\x02" + struct.pack(">Q", 1234567890123))
    frag = bytes(range(256)) * 4  # three of 400 bytes exceed the 1000-byte reader's limit
    seeds = {
        "keepalive": keepalive + ack,
        "channel-open": (record(CONTROL, FIRST | LAST, b"\x10\x05\x02") +
                         record(CONTROL, FIRST | LAST, b"\x11\x05") +
                         record(5, FIRST | LAST, b"hello") +
                         record(CONTROL, FIRST | LAST, b"\x12\x05\x00")),
        "fragmented-3": (record(5, FIRST, frag[:400]) + record(5, 0, frag[:400]) +
                         record(5, LAST, frag[:400]) + keepalive),
        "interleaved": (record(1, FIRST, b"a" * 10) + record(2, FIRST | LAST, b"b") +
                        record(1, LAST, b"c" * 10) + record(CONTROL, FIRST, b"\x10\x7f") +
                        record(CONTROL, LAST, b"\x01")),
        "empty-message": record(7, FIRST | LAST, b"") + record(7, FIRST, b"") +
                         record(7, LAST, b""),
        "disconnect": record(CONTROL, FIRST | LAST, b"\x03\x13") + keepalive,
        "bad-header-reserved": keepalive + record(3, FIRST | LAST, b"x", reserved=1),
        "bad-header-flags": record(3, 0x04 | FIRST | LAST, b"x"),
        "bad-header-length": struct.pack(">BBHI", 3, FIRST | LAST, 0, 16385) + b"x" * 16,
        "bad-order": record(9, LAST, b"x") + record(9, FIRST, b"y") + record(9, FIRST, b"z"),
        "bad-control": record(CONTROL, FIRST | LAST, b"\x10\x80\x00"),
        "unknown-channel": record(5, FIRST | LAST, b"x") + record(130, FIRST | LAST, b"v"),
        "truncated": keepalive + keepalive[:12],
        # Five parked partial messages of 850 bytes: over the 1000-byte reader's bound on all
        # partials together (4 x its message limit), though each message is within its own.
        "many-partials": b"".join(record(ch, FIRST, frag[:850]) for ch in range(1, 6)),
    }
    return seeds


# The stream's messages (src/stream/wire.h): big endian, floats as IEEE-754 binary32.
POSE, VIDEO = 0x01, 0x10
SYNC_REQUEST, SYNC_RESPONSE, CLOCK, KEYFRAME_REQUEST, FRAME_REPORT = 0x20, 0x21, 0x22, 0x23, 0x24
IDENTITY = (0.0, 0.0, 0.0, 1.0)
FOV_LEFT = (-0.9, 0.7, 0.8, -0.8)   # left, right, up, down (radians)
FOV_RIGHT = (-0.7, 0.9, 0.8, -0.8)


def pose(pose_id=1, sampled=1000000, display=1016000, head=(0.0, 1.6, 0.0), head_q=IDENTITY,
         fov_left=FOV_LEFT, ipd=0.064):
    floats = (list(head) + list(head_q) +
              [head[0] - ipd / 2, head[1], head[2]] + list(head_q) +
              [head[0] + ipd / 2, head[1], head[2]] + list(head_q) +
              list(fov_left) + list(FOV_RIGHT))
    return struct.pack(">BQQQ29f", POSE, pose_id, sampled, display, *floats)


def video(frame_id=1, pose_id=1, flags=1, codec=1, width=2560, height=720,
          bitstream=b"\x00\x00\x00\x01\x67\x42\xc0\x1f"):
    times = [1000000 + 1000 * i for i in range(8)]
    return (struct.pack(">BQQBBHH8Q", VIDEO, frame_id, pose_id, flags, codec, width, height,
                        *times) + bitstream)


def stream_wire_seeds():
    # A quarter turn about y, scaled so |q| is 1.05: inside the 10 % tolerance.
    turned = tuple(1.05 * c for c in (0.0, 0.7071068, 0.0, 0.7071068))
    report = struct.pack(">BQ11Q", FRAME_REPORT, 42,
                         *[5000000 + 1500 * i for i in range(10)], 5016000)
    seeds = {
        "pose": pose(),
        "pose-turned": pose(pose_id=0xFFFFFFFFFFFFFFFF, sampled=0, head=(-99999.0, 0.0, 1e5),
                            head_q=turned, fov_left=(-0.0, 0.0, 1.5, -1.5)),
        "video-h264-keyframe": video(),
        "video-hevc": video(frame_id=2, pose_id=0, flags=0, codec=2, width=8192, height=2,
                            bitstream=b"\x00\x00\x01\x02\x01" * 20),
        "sync-request": struct.pack(">BQ", SYNC_REQUEST, 123456789),
        "sync-response": struct.pack(">BQQQ", SYNC_RESPONSE, 123456789, 987654321, 987654400),
        "clock-negative": struct.pack(">BqI", CLOCK, -25000, 850),
        "clock-positive": struct.pack(">BqI", CLOCK, 1 << 40, 0xFFFFFFFF),
        "keyframe-request": struct.pack(">BQ", KEYFRAME_REQUEST, 41),
        "frame-report": report,
        # Near misses: one rule broken each.
        "bad-pose-nan": pose()[:25] + struct.pack(">f", float("nan")) + pose()[29:],
        "bad-pose-id-0": pose(pose_id=0),
        "bad-pose-quaternion": pose(head_q=(0.0, 0.0, 0.0, 1.2)),
        "bad-pose-short": pose()[:-1],
        "bad-video-header-only": video(bitstream=b""),
        "bad-video-odd-width": video(width=1281),
        "bad-video-flags": video(flags=3),
        "bad-stats-type": struct.pack(">BQ", 0x25, 1),
        "bad-clock-long": struct.pack(">BqI", CLOCK, -1, 1) + b"\x00",
    }
    return seeds


def write_all(out, check):
    stale = []
    for sub, seeds in (("http", http_seeds()), ("record", record_seeds()),
                        ("stream_wire", stream_wire_seeds())):
        d = os.path.join(out, sub)
        if not check:
            os.makedirs(d, exist_ok=True)
        for name, blob in sorted(seeds.items()):
            path = os.path.join(d, name)
            if check:
                try:
                    with open(path, "rb") as f:
                        if f.read() != blob:
                            stale.append(path)
                except FileNotFoundError:
                    stale.append(path)
            else:
                with open(path, "wb") as f:
                    f.write(blob)
        # A fuzzer pointed at the seeds adds its finds there; those are not seeds.
        if check and os.path.isdir(d):
            stale += [os.path.join(d, n) for n in sorted(os.listdir(d)) if n not in seeds]
    return stale


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    stale = write_all(args.out, args.check)
    for path in stale:
        print(f"not what make-corpus.py writes: {path}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
