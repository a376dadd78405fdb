#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The inspector page in a real browser: openrr-inspector-demo (the inspector with a synthetic
# source) is opened in Debian's headless chromium; the dumped DOM must show graphs with data
# (data-samples > 0), log lines and the scene tree; a wrong token must leave the page empty
# with an error; a screenshot is kept in the test's working directory (path printed).
#
# The page runs with ?poll=1: headless chromium's virtual time does not advance while an event
# stream is open, so the browser polls /api/stats (test_inspector covers the stream itself).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
rr_init

DEMO=${RR_INSPECTOR_DEMO:-$(dirname "$RR_TOOL")/../inspector/openrr-inspector-demo}
CHROMIUM=${RR_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$DEMO" ]; then
    rr_skip "openrr-inspector-demo is not built ($DEMO)"
    rr_finish
fi
if [ ! -x "$CHROMIUM" ]; then
    rr_skip "no chromium at $CHROMIUM"
    rr_finish
fi
WEB_ROOT=${RR_SOURCE_DIR:-$(cd "$here/../.." && pwd)}/web/inspector

TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
rr_bg demo "$DEMO" --port 0 --token "$TOKEN" --web-root "$WEB_ROOT" --seconds 240
DEMO_PID=$RR_LAST_PID
if ! rr_wait_log "$RR_TMP/demo.err" 'listening on port [0-9]+' 10; then
    rr_not_ok "the demo listens" "$RR_TMP/demo.err"
    rr_finish
fi
PORT=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$RR_TMP/demo.err" | head -n 1)
rr_ok "the demo listens on port $PORT"
# A few samples and log lines before the browser comes.
sleep 1.5

# chromium_run NAME ARGS...: headless chromium (bounded), stdout to NAME.out, stderr NAME.err.
chromium_run() {
    local name=$1
    shift
    timeout -k 5 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-extensions --disable-background-networking --user-data-dir="$RR_TMP/profile" \
        --virtual-time-budget=4000 "$@" >"$RR_TMP/$name.out" 2>"$RR_TMP/$name.err"
}

URL="http://127.0.0.1:$PORT/?poll=1&token=$TOKEN"
chromium_run dom --dump-dom "$URL"
rr_result $? "chromium dumps the page's DOM" "$RR_TMP/dom.err"

# Checks on the DOM: each graph's data-samples, the log's lines, the scene's nodes.
rr_python "$RR_TMP/dom.out" >"$RR_TMP/dom.check" 2>&1 <<'EOF'
from html.parser import HTMLParser
graphs, attrs_by_id, classes = {}, {}, {}
class P(HTMLParser):
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            attrs_by_id[a["id"]] = a
        if "graph" in (a.get("class") or "").split():
            graphs[a.get("id")] = int(a.get("data-samples") or 0)
        for c in (a.get("class") or "").split():
            classes[c] = classes.get(c, 0) + 1
text = open(sys.argv[1], encoding="utf-8").read()
P().feed(text)
want = ["g-frame", "g-fps", "g-latency", "g-bitrate", "g-primitives", "g-cpu", "g-memory"]
for g in want:
    print("graph %s data-samples=%s" % (g, graphs.get(g)))
ok = all((graphs.get(g) or 0) > 0 for g in want)
lines = int(attrs_by_id.get("log", {}).get("data-lines") or 0)
nodes = int(attrs_by_id.get("scene", {}).get("data-nodes") or 0)
print("log data-lines=%d log-line elements=%d" % (lines, classes.get("log-line", 0)))
print("scene data-nodes=%d" % nodes)
ok = ok and lines > 0 and classes.get("log-line", 0) > 0 and "[demo]" in text
ok = ok and nodes > 0 and "building" in text and "cut plane" in text
sys.exit(0 if ok else 1)
EOF
rc=$?
sed 's/^/# /' "$RR_TMP/dom.check"
rr_result $rc "the page shows graphs with samples, log lines and the scene tree" "$RR_TMP/dom.check"

# The token must not be left in the page (it lives in sessionStorage, not the DOM).
if grep -q -- "$TOKEN" "$RR_TMP/dom.out"; then
    rr_not_ok "the token does not appear in the DOM"
else
    rr_ok "the token does not appear in the DOM"
fi

# A wrong token: no data, an error shown.
chromium_run bad --dump-dom "http://127.0.0.1:$PORT/?poll=1&token=wrong-$TOKEN"
if grep -q 'refused the token' "$RR_TMP/bad.out" && ! grep -qE 'data-samples="[1-9]' "$RR_TMP/bad.out" &&
    grep -q 'data-lines="0"' "$RR_TMP/bad.out"; then
    rr_ok "a wrong token gets an error and no data"
else
    rr_not_ok "a wrong token gets an error and no data" "$RR_TMP/bad.out"
fi

# The screenshot, kept where the test runs (the build tree) for people and CI artifacts.
chromium_run shot --screenshot="$RR_TMP/inspector.png" --window-size=1280,900 "$URL"
if [ -s "$RR_TMP/inspector.png" ] && [ "$(od -An -N4 -tx1 "$RR_TMP/inspector.png" | tr -d ' ')" = 89504e47 ]; then
    cp "$RR_TMP/inspector.png" "$PWD/inspector.png"
    rr_ok "screenshot: $PWD/inspector.png"
else
    rr_not_ok "chromium takes a screenshot" "$RR_TMP/shot.err"
fi

rr_stop "$DEMO_PID"
rr_finish
