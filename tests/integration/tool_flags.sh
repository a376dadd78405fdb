#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The openrr-remoting command line: --help, usage errors, both flag prefixes, and both ways of
# giving the listen address (-listen HOST:PORT, and -listen followed later by HOST:PORT).
set -u
. "$(dirname "$0")/lib.sh"
rr_init

"$RR_TOOL" --help >"$RR_TMP/help.out" 2>&1
rc=$?
rr_result $(( rc == 0 && $(grep -c -- "-secureconnection" "$RR_TMP/help.out") > 0 ? 0 : 1 )) \
    "--help exits 0 and lists the flags"

"$RR_TOOL" -nosuchflag >"$RR_TMP/bad.out" 2>&1
rc=$?
rr_result $(( rc == 64 ? 0 : 1 )) "an unknown flag is a usage error (64)" "exit $rc"

"$RR_TOOL" -listen 127.0.0.1:1 -secureconnection -authenticationtoken x >"$RR_TMP/nostore.out" 2>&1
rc=$?
rr_result $(( rc == 64 && $(grep -ci "certificatestore" "$RR_TMP/nostore.out") > 0 ? 0 : 1 )) \
    "a secure listener without a certificate store is refused with a clear message" "exit $rc"

# -listen HOST:PORT with double-dash flags.
port=$(rr_free_port)
if rr_listen dash --listen "127.0.0.1:$port" --echo --once; then
    rr_client dash-c "--send" "hi" "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 && $(grep -c "echo: hi" "$RR_TMP/dash-c.out") > 0 ? 0 : 1 )) \
        "--listen HOST:PORT and --send work with double dashes" "exit $RR_RC"
else
    rr_not_ok "--listen HOST:PORT did not start"
fi

# -listen with the address given later as a positional argument.
port=$(rr_free_port)
if rr_listen sep -listen -echo -once "127.0.0.1:$port"; then
    rr_result $(( RR_PORT == port ? 0 : 1 )) "-listen with a separate address binds that port" \
        "bound $RR_PORT, wanted $port"
    rr_client sep-c -send "hey" "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 ? 0 : 1 )) "a client reaches the separately given address" "exit $RR_RC"
else
    rr_not_ok "-listen followed by a separate address did not start"
fi

# -listen immediately followed by the address as its own argument.
port=$(rr_free_port)
if rr_listen next -listen "127.0.0.1:$port" -once; then
    rr_client next-c "127.0.0.1:$port"
    rr_result $(( RR_RC == 0 ? 0 : 1 )) "-listen ADDRESS as the next argument works" "exit $RR_RC"
else
    rr_not_ok "-listen ADDRESS did not start"
fi
rr_finish
