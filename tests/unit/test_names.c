/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the public enum names and the certificate-validation rule
 * (src/remoting/names.c). Reason names are part of the interface (logs, the command-line
 * tools, scripts comparing with the reference runtime), so the whole reference table is
 * spelled out here rather than derived from the code under test.
 */
#include "openrr/remoting.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

/* ConnectionFailureReason of the reference, in value order
 * (/work/shared/reference/holographic-remoting-api.md). */
static const char *const k_reason_names[] = {
    "None",                           /* 0 */
    "Unknown",                        /* 1 */
    "NoServerCertificate",            /* 2 */
    "HandshakePortBusy",              /* 3 */
    "HandshakeUnreachable",           /* 4 */
    "HandshakeConnectionFailed",      /* 5 */
    "AuthenticationFailed",           /* 6 */
    "RemotingVersionMismatch",        /* 7 */
    "IncompatibleTransportProtocols", /* 8 */
    "HandshakeFailed",                /* 9 */
    "TransportPortBusy",              /* 10 */
    "TransportUnreachable",           /* 11 */
    "TransportConnectionFailed",      /* 12 */
    "ProtocolVersionMismatch",        /* 13 */
    "ProtocolError",                  /* 14 */
    "VideoCodecNotAvailable",         /* 15 */
    "Canceled",                       /* 16 */
    "ConnectionLost",                 /* 17 */
    "DeviceLost",                     /* 18 */
    "DisconnectRequest",              /* 19 */
    "HandshakeNetworkUnreachable",    /* 20 */
    "HandshakeConnectionRefused",     /* 21 */
    "VideoFormatNotAvailable",        /* 22 */
    "PeerDisconnectRequest",          /* 23 */
    "PeerDisconnectTimeout",          /* 24 */
    "SessionOpenTimeout",             /* 25 */
    "RemotingHandshakeTimeout",       /* 26 */
    "InternalError",                  /* 27 */
    "HandshakePermissionDenied",      /* 28 */
};

static void test_reason_table_size(void **state)
{
    (void)state;
    assert_int_equal(sizeof(k_reason_names) / sizeof(k_reason_names[0]), RR_REASON_COUNT);
    assert_int_equal(RR_REASON_COUNT, RR_REASON_HANDSHAKE_PERMISSION_DENIED + 1);
}

static void test_reason_names(void **state)
{
    (void)state;
    for (unsigned i = 0; i < RR_REASON_COUNT; i++) {
        const char *name = rr_disconnect_reason_str((enum rr_disconnect_reason)i);
        assert_non_null(name);
        if (strcmp(name, k_reason_names[i]) != 0) {
            fail_msg("reason %u is named \"%s\", the reference says \"%s\"", i, name,
                     k_reason_names[i]);
        }
    }
    /* A few by their enum constant too, so a renumbered enum cannot hide behind the loop. */
    assert_string_equal(rr_disconnect_reason_str(RR_REASON_NONE), "None");
    assert_string_equal(rr_disconnect_reason_str(RR_REASON_AUTHENTICATION_FAILED),
                        "AuthenticationFailed");
    assert_string_equal(rr_disconnect_reason_str(RR_REASON_CANCELED), "Canceled");
    assert_string_equal(rr_disconnect_reason_str(RR_REASON_PEER_DISCONNECT_TIMEOUT),
                        "PeerDisconnectTimeout");
    assert_string_equal(rr_disconnect_reason_str(RR_REASON_HANDSHAKE_PERMISSION_DENIED),
                        "HandshakePermissionDenied");
}

static void test_reason_out_of_range(void **state)
{
    (void)state;
    assert_string_equal(rr_disconnect_reason_str((enum rr_disconnect_reason)RR_REASON_COUNT),
                        "Unknown");
    assert_string_equal(rr_disconnect_reason_str((enum rr_disconnect_reason)255), "Unknown");
    assert_string_equal(rr_disconnect_reason_str((enum rr_disconnect_reason) - 1), "Unknown");
    assert_string_equal(rr_disconnect_reason_str((enum rr_disconnect_reason)0x7fffffff), "Unknown");
}

static void test_reason_from_str_round_trip(void **state)
{
    (void)state;
    for (unsigned i = 0; i < RR_REASON_COUNT; i++) {
        enum rr_disconnect_reason r = (enum rr_disconnect_reason)99;
        assert_true(rr_disconnect_reason_from_str(k_reason_names[i], &r));
        assert_int_equal(r, i);
        r = (enum rr_disconnect_reason)99;
        assert_true(rr_disconnect_reason_from_str(
            rr_disconnect_reason_str((enum rr_disconnect_reason)i), &r));
        assert_int_equal(r, i);
    }
    /* The output is optional: a caller may only want to know whether the name exists. */
    assert_true(rr_disconnect_reason_from_str("ConnectionLost", NULL));
}

static void test_reason_from_str_unknown(void **state)
{
    (void)state;
    enum rr_disconnect_reason r = RR_REASON_PROTOCOL_ERROR;
    assert_false(rr_disconnect_reason_from_str("nope", &r));
    assert_int_equal(r, RR_REASON_PROTOCOL_ERROR); /* untouched on failure */
    assert_false(rr_disconnect_reason_from_str(NULL, &r));
    assert_false(rr_disconnect_reason_from_str("", &r));
    /* Exact match only: no case folding, prefixes or padding. */
    assert_false(rr_disconnect_reason_from_str("none", &r));
    assert_false(rr_disconnect_reason_from_str("CANCELED", &r));
    assert_false(rr_disconnect_reason_from_str("Cancelled", &r));
    assert_false(rr_disconnect_reason_from_str("Handshake", &r));
    assert_false(rr_disconnect_reason_from_str("ProtocolErrorX", &r));
    assert_false(rr_disconnect_reason_from_str(" ProtocolError", &r));
    assert_false(rr_disconnect_reason_from_str("ProtocolError ", &r));
    assert_false(rr_disconnect_reason_from_str("14", &r));
    assert_int_equal(r, RR_REASON_PROTOCOL_ERROR);
}

static void test_result_names(void **state)
{
    (void)state;
    static const char *const expected[] = {
        "RR_OK",
        "RR_ERROR_INVALID_ARGUMENT",
        "RR_ERROR_OUT_OF_MEMORY",
        "RR_ERROR_WRONG_STATE",
        "RR_ERROR_NOT_CONNECTED",
        "RR_ERROR_CHANNEL_EXISTS",
        "RR_ERROR_CHANNEL_CLOSED",
        "RR_ERROR_QUEUE_FULL",
        "RR_ERROR_MESSAGE_TOO_LARGE",
        "RR_ERROR_NO_EVENT",
        "RR_ERROR_SYSTEM",
        "RR_ERROR_TLS",
        "RR_ERROR_CERTIFICATE",
        "RR_ERROR_IO",
    };
    const size_t count = sizeof(expected) / sizeof(expected[0]);
    assert_int_equal(count, RR_ERROR_IO + 1);
    for (size_t i = 0; i < count; i++) {
        const char *name = rr_result_str((enum rr_result)i);
        assert_non_null(name);
        assert_string_equal(name, expected[i]);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(name, rr_result_str((enum rr_result)j));
        }
    }
    /* Never NULL, and distinct from every real result, even for a value that is none. */
    static const int bogus[] = {-1, RR_ERROR_IO + 1, 1000};
    for (size_t b = 0; b < sizeof(bogus) / sizeof(bogus[0]); b++) {
        const char *name = rr_result_str((enum rr_result)bogus[b]);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        for (size_t i = 0; i < count; i++) {
            assert_string_not_equal(name, expected[i]);
        }
    }
}

static void test_event_names(void **state)
{
    (void)state;
    static const char *const expected[] = {
        "None",
        "Listening",
        "Connected",
        "Disconnected",
        "AttemptFailed",
        "DataChannelCreated",
        "DataChannelOpened",
        "DataReceived",
        "DataChannelClosed",
    };
    const size_t count = sizeof(expected) / sizeof(expected[0]);
    assert_int_equal(count, RR_EVENT_DATA_CHANNEL_CLOSED + 1);
    for (size_t i = 0; i < count; i++) {
        const char *name = rr_event_type_str((enum rr_event_type)i);
        assert_non_null(name);
        assert_string_equal(name, expected[i]);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(name, rr_event_type_str((enum rr_event_type)j));
        }
    }
    assert_string_equal(rr_event_type_str(RR_EVENT_CONNECTED), "Connected");
    const char *bogus = rr_event_type_str((enum rr_event_type)(RR_EVENT_DATA_CHANNEL_CLOSED + 1));
    assert_non_null(bogus);
    assert_non_null(rr_event_type_str((enum rr_event_type) - 1));
    for (size_t i = 0; i < count; i++) {
        assert_string_not_equal(bogus, expected[i]);
    }
}

/* ---- certificate validation result ------------------------------------------------------ */

/* The one result that lets a connection through with a name check done. */
static struct rr_certificate_validation_result good_result(void)
{
    struct rr_certificate_validation_result r;
    memset(&r, 0, sizeof(r));
    r.trusted_root = true;
    r.name_validation_result = RR_NAME_MATCH;
    return r;
}

static void test_validation_ok_truth_table(void **state)
{
    (void)state;
    struct rr_certificate_validation_result r = good_result();
    assert_true(rr_certificate_validation_result_ok(&r));

    r.name_validation_result = RR_NAME_NOT_CHECKED;
    assert_true(rr_certificate_validation_result_ok(&r));
    r.name_validation_result = RR_NAME_MISMATCH;
    assert_false(rr_certificate_validation_result_ok(&r));

    r = good_result();
    r.trusted_root = false;
    assert_false(rr_certificate_validation_result_ok(&r));
    r = good_result();
    r.revoked = true;
    assert_false(rr_certificate_validation_result_ok(&r));
    r = good_result();
    r.expired = true;
    assert_false(rr_certificate_validation_result_ok(&r));
    r = good_result();
    r.wrong_usage = true;
    assert_false(rr_certificate_validation_result_ok(&r));
    r = good_result();
    r.revocation_check_failed = true;
    assert_false(rr_certificate_validation_result_ok(&r));
    r = good_result();
    r.invalid_cert_or_chain = true;
    assert_false(rr_certificate_validation_result_ok(&r));

    assert_false(rr_certificate_validation_result_ok(NULL));
}

static void test_validation_ok_exhaustive(void **state)
{
    (void)state;
    /* Every combination of the six flags and three name results against the stated rule. */
    for (unsigned bits = 0; bits < 64; bits++) {
        for (unsigned nv = 0; nv < 3; nv++) {
            struct rr_certificate_validation_result r;
            memset(&r, 0, sizeof(r));
            r.trusted_root = (bits & 1) != 0;
            r.revoked = (bits & 2) != 0;
            r.expired = (bits & 4) != 0;
            r.wrong_usage = (bits & 8) != 0;
            r.revocation_check_failed = (bits & 16) != 0;
            r.invalid_cert_or_chain = (bits & 32) != 0;
            r.name_validation_result = (enum rr_name_validation)nv;
            bool expected = bits == 1 && nv != RR_NAME_MISMATCH;
            if (rr_certificate_validation_result_ok(&r) != expected) {
                fail_msg("flags 0x%02x name %u: expected %d", bits, nv, expected);
            }
        }
    }
}

/* True when @p word is one of the space-separated words of @p s ("trustedRoot" must not be
 * found inside "untrustedRoot"). */
static bool has_word(const char *s, const char *word)
{
    size_t wl = strlen(word);
    const char *p = s;
    while (*p) {
        while (*p == ' ') {
            p++;
        }
        const char *e = p;
        while (*e && *e != ' ') {
            e++;
        }
        if ((size_t)(e - p) == wl && strncmp(p, word, wl) == 0) {
            return true;
        }
        p = e;
    }
    return false;
}

static void test_format_good(void **state)
{
    (void)state;
    struct rr_certificate_validation_result r = good_result();
    char buf[256];
    assert_ptr_equal(rr_certificate_validation_result_format(&r, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "trustedRoot nameMatch");
}

static void test_format_words(void **state)
{
    (void)state;
    char buf[256];
    struct rr_certificate_validation_result r;
    memset(&r, 0, sizeof(r));
    r.name_validation_result = RR_NAME_NOT_CHECKED;
    rr_certificate_validation_result_format(&r, buf, sizeof(buf));
    assert_true(has_word(buf, "untrustedRoot"));
    assert_false(has_word(buf, "trustedRoot"));
    assert_true(has_word(buf, "nameNotChecked"));
    assert_false(has_word(buf, "nameMatch"));
    assert_false(has_word(buf, "nameMismatch"));
    static const char *const flags[] = {"expired", "wrongUsage", "revoked", "revocationCheckFailed",
                                        "invalidCertOrChain"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_false(has_word(buf, flags[i]));
    }

    r.trusted_root = true;
    r.name_validation_result = RR_NAME_MISMATCH;
    rr_certificate_validation_result_format(&r, buf, sizeof(buf));
    assert_true(has_word(buf, "trustedRoot"));
    assert_false(has_word(buf, "untrustedRoot"));
    assert_true(has_word(buf, "nameMismatch"));
    assert_false(has_word(buf, "nameMatch"));

    /* Each flag alone shows exactly its own word. */
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        r = good_result();
        r.expired = i == 0;
        r.wrong_usage = i == 1;
        r.revoked = i == 2;
        r.revocation_check_failed = i == 3;
        r.invalid_cert_or_chain = i == 4;
        rr_certificate_validation_result_format(&r, buf, sizeof(buf));
        for (size_t j = 0; j < sizeof(flags) / sizeof(flags[0]); j++) {
            if (has_word(buf, flags[j]) != (i == j)) {
                fail_msg("with only %s set the text is \"%s\"", flags[i], buf);
            }
        }
        assert_true(has_word(buf, "trustedRoot"));
        assert_true(has_word(buf, "nameMatch"));
    }

    /* Everything at once. */
    memset(&r, 0, sizeof(r));
    r.revoked = r.expired = r.wrong_usage = true;
    r.revocation_check_failed = r.invalid_cert_or_chain = true;
    r.name_validation_result = RR_NAME_MISMATCH;
    rr_certificate_validation_result_format(&r, buf, sizeof(buf));
    assert_true(has_word(buf, "untrustedRoot"));
    assert_true(has_word(buf, "nameMismatch"));
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_true(has_word(buf, flags[i]));
    }
}

static void test_format_small_buffers(void **state)
{
    (void)state;
    struct rr_certificate_validation_result r;
    memset(&r, 0, sizeof(r));
    r.revoked = r.expired = r.wrong_usage = true;
    r.revocation_check_failed = r.invalid_cert_or_chain = true;
    r.name_validation_result = RR_NAME_MISMATCH;
    char full[256];
    rr_certificate_validation_result_format(&r, full, sizeof(full));

    /* Every size from 1 up: a NUL within the size, nothing written past it, and a prefix of
     * the full text before the NUL. */
    for (size_t size = 1; size <= strlen(full) + 1; size++) {
        char buf[300];
        memset(buf, 'X', sizeof(buf));
        assert_ptr_equal(rr_certificate_validation_result_format(&r, buf, size), buf);
        size_t len = strnlen(buf, size);
        if (len >= size) {
            fail_msg("size %zu: not NUL-terminated", size);
        }
        assert_memory_equal(buf, full, len);
        for (size_t i = size; i < sizeof(buf); i++) {
            if (buf[i] != 'X') {
                fail_msg("size %zu: byte %zu written", size, i);
            }
        }
    }

    char one[4] = {'X', 'X', 'X', 'X'};
    rr_certificate_validation_result_format(&r, one, 1);
    assert_int_equal(one[0], '\0');
    assert_int_equal(one[1], 'X');

    char five[8];
    memset(five, 'X', sizeof(five));
    rr_certificate_validation_result_format(&r, five, 5);
    assert_string_equal(five, "untr");
    assert_int_equal(five[5], 'X');

    /* Size 0 writes nothing at all. */
    char zero[2] = {'X', 'X'};
    assert_ptr_equal(rr_certificate_validation_result_format(&r, zero, 0), zero);
    assert_int_equal(zero[0], 'X');
    assert_null(rr_certificate_validation_result_format(&r, NULL, 16));
}

static void test_format_null_result(void **state)
{
    (void)state;
    char buf[16];
    memset(buf, 'X', sizeof(buf));
    assert_ptr_equal(rr_certificate_validation_result_format(NULL, buf, sizeof(buf)), buf);
    assert_string_equal(buf, "");
}

static void test_format_out_of_range_name(void **state)
{
    (void)state;
    /* A value outside the enum (from a careless validator) must not index past the names. */
    struct rr_certificate_validation_result r = good_result();
    r.name_validation_result = (enum rr_name_validation)7;
    char buf[128];
    rr_certificate_validation_result_format(&r, buf, sizeof(buf));
    assert_true(strlen(buf) < sizeof(buf));
    assert_false(has_word(buf, "nameMatch"));
    assert_false(has_word(buf, "nameNotChecked"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_table_size),
        cmocka_unit_test(test_reason_names),
        cmocka_unit_test(test_reason_out_of_range),
        cmocka_unit_test(test_reason_from_str_round_trip),
        cmocka_unit_test(test_reason_from_str_unknown),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_event_names),
        cmocka_unit_test(test_validation_ok_truth_table),
        cmocka_unit_test(test_validation_ok_exhaustive),
        cmocka_unit_test(test_format_good),
        cmocka_unit_test(test_format_words),
        cmocka_unit_test(test_format_small_buffers),
        cmocka_unit_test(test_format_null_result),
        cmocka_unit_test(test_format_out_of_range_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
