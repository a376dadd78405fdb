/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Certificate helpers and system validation on bad input: garbage instead of a certificate,
 * empty and overlong chains, missing files, invalid arguments, and a self-signed store that
 * loads and is picked by its name.
 */
#include "rr_test.h"

#include "validation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_garbage_chain_is_invalid(void **state)
{
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++) {
        junk[i] = (uint8_t)(i * 7 + 3);
    }
    struct rr_der_certificate c = {.data = junk, .size = sizeof(junk)};
    struct rr_certificate_chain chain = {.count = 1, .certificates = &c};
    struct rr_validation_params p;
    memset(&p, 0, sizeof(p));
    snprintf(p.server_name, sizeof(p.server_name), "localhost");
    p.no_system_trust = true;
    char detail[160];
    p.store = rr_validation_store(&p, detail, sizeof(detail));
    assert_non_null(p.store);
    struct rr_certificate_validation_result r;
    rr_validation_system(&p, &chain, &r, detail, sizeof(detail));
    assert_true(r.invalid_cert_or_chain);
    assert_false(r.trusted_root);
    assert_false(rr_certificate_validation_result_ok(&r));
    assert_non_null(strstr(detail, "cannot be decoded"));

    /* Empty and overlong chains. */
    chain.count = 0;
    rr_validation_system(&p, &chain, &r, detail, sizeof(detail));
    assert_true(r.invalid_cert_or_chain);
    struct rr_der_certificate many[RR_MAX_CHAIN_LENGTH + 1];
    for (size_t i = 0; i < RR_MAX_CHAIN_LENGTH + 1; i++) {
        many[i] = c;
    }
    chain.count = RR_MAX_CHAIN_LENGTH + 1;
    chain.certificates = many;
    rr_validation_system(&p, &chain, &r, detail, sizeof(detail));
    assert_true(r.invalid_cert_or_chain);
    X509_STORE_free(p.store);
}

static void test_self_signed_store(void **state)
{
    uint8_t *pfx = NULL;
    size_t size = 0;
    assert_int_equal(rr_cert_create_self_signed_pkcs12("host.example", "pw", 2, &pfx, &size),
                     RR_OK);
    char fp[96], err[200];
    assert_int_equal(rr_cert_store_check(pfx, size, "pw", "host.example", fp, err, sizeof(err)),
                     RR_OK);
    assert_int_equal(strlen(fp), 95);
    assert_int_equal(rr_cert_store_check(pfx, size, "wrong", "host.example", fp, err, sizeof(err)),
                     RR_ERROR_CERTIFICATE);
    assert_non_null(strstr(err, "password"));
    assert_null(strstr(err, "wrong\"")); /* the password itself is never echoed */
    assert_int_equal(rr_cert_store_check(pfx, size, "pw", "other", fp, err, sizeof(err)),
                     RR_ERROR_CERTIFICATE);
    assert_non_null(strstr(err, "other"));
    /* Truncated store. */
    assert_int_equal(rr_cert_store_check(pfx, size / 2, "pw", NULL, fp, err, sizeof(err)),
                     RR_ERROR_CERTIFICATE);
    free(pfx);
    /* An IP literal goes into an IP SAN. */
    assert_int_equal(rr_cert_create_self_signed_pkcs12("127.0.0.1", "", 1, &pfx, &size), RR_OK);
    assert_int_equal(rr_cert_store_check(pfx, size, "", "127.0.0.1", fp, err, sizeof(err)), RR_OK);
    free(pfx);
}

static void test_invalid_arguments(void **state)
{
    uint8_t *pfx = NULL;
    size_t size = 0;
    assert_int_equal(rr_cert_create_self_signed_pkcs12(NULL, "pw", 1, &pfx, &size),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_cert_create_self_signed_pkcs12("", "pw", 1, &pfx, &size),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_cert_create_self_signed_pkcs12("a,b", "pw", 1, &pfx, &size),
                     RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_cert_create_self_signed_pkcs12("h", "pw", 0, &pfx, &size),
                     RR_ERROR_INVALID_ARGUMENT);
    char fp[96];
    assert_int_equal(rr_cert_fingerprint_sha256(NULL, 3, fp), RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_cert_fingerprint_sha256("abc", 0, fp), RR_ERROR_INVALID_ARGUMENT);
    assert_int_equal(rr_cert_fingerprint_sha256("abc", 3, fp), RR_OK);
    /* SHA-256("abc") */
    assert_string_equal(fp, "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:"
                            "7A:9C:B4:10:FF:61:F2:00:15:AD");
    uint8_t *data = NULL;
    assert_int_equal(rr_file_read("/nonexistent/openrr", &data, &size), RR_ERROR_IO);
    assert_int_equal(rr_file_read("/", &data, &size), RR_ERROR_IO); /* a directory */
    assert_int_equal(rr_cert_store_check(NULL, 0, NULL, NULL, fp, NULL, 0), RR_ERROR_CERTIFICATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_garbage_chain_is_invalid),
        cmocka_unit_test(test_self_signed_store),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
