/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrrd's CA (fe_ca): the CA made at the first open and loaded at the next, half-written and
 * unsafe CAs refused, host certificates with the promised fields (P-256, 128-bit serial, SAN IP
 * or DNS, CN, serverAuth, digitalSignature, AKI, validity) in a 0600 PKCS#12 that OpenSSL's
 * command line reads and verifies against ca.pem, and that the remoting library accepts over a
 * real TLS 1.3 connection with ca.pem as its only trust anchor.
 */
#include "rr_test.h"

#include "fe_ca.h"
#include "validation.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PASS "correct horse battery staple"

static char g_tmp[256];

static const char *path_in(const char *name)
{
    static char bufs[8][PATH_MAX];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, PATH_MAX, "%s/%s", g_tmp, name);
    return b;
}

static int run_shell(const char *cmd)
{
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/test_fe_ca.XXXXXX");
    return mkdtemp(g_tmp) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    return run_shell(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 0777;
}

static X509 *read_pem_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    return x;
}

/* The host certificate, its key and the chain out of a PKCS#12 file; false for a wrong
 * passphrase. */
static bool read_p12(const char *path, const char *pass, EVP_PKEY **key, X509 **cert,
                     STACK_OF(X509) * *ca)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    PKCS12 *p12 = d2i_PKCS12_fp(f, NULL);
    fclose(f);
    assert_non_null(p12);
    *ca = NULL;
    bool ok = PKCS12_parse(p12, pass, key, cert, ca) == 1;
    PKCS12_free(p12);
    return ok;
}

static void write_pem_cert(X509 *x, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    fclose(f);
}

static int64_t asn1_time_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    assert_int_equal(ASN1_TIME_to_tm(t, &tm), 1);
    return (int64_t)timegm(&tm);
}

/* ---- the CA ------------------------------------------------------------------------------ */

static void test_ca_created_then_loaded(void **state)
{
    (void)state;
    char err[512] = "";
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path_in("ca1"));
    struct fe_ca *ca = NULL;
    assert_true(fe_ca_open(dir, &ca, err, sizeof err));
    assert_int_equal(mode_of(dir), 0700);
    assert_int_equal(mode_of(path_in("ca1/ca-key.pem")), 0600);
    char *first = strdup(fe_ca_pem(ca));
    assert_non_null(strstr(first, "-----BEGIN CERTIFICATE-----"));
    fe_ca_destroy(&ca);
    assert_null(ca);
    fe_ca_destroy(&ca); /* NULL: nothing */

    /* The second open loads the same CA. */
    assert_true(fe_ca_open(dir, &ca, err, sizeof err));
    assert_string_equal(fe_ca_pem(ca), first);
    fe_ca_destroy(&ca);
    free(first);

    X509 *x = read_pem_cert(path_in("ca1/ca.pem"));
    /* Self-signed P-256, CA:TRUE with pathlen 0 (critical), keyCertSign + cRLSign, SKI. */
    EVP_PKEY *pub = X509_get0_pubkey(x);
    assert_true(EVP_PKEY_is_a(pub, "EC"));
    char group[32];
    size_t glen = 0;
    assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof group, &glen), 1);
    assert_string_equal(group, "prime256v1");
    assert_int_equal(X509_verify(x, pub), 1);
    assert_int_equal(X509_check_ca(x), 1);
    int crit = -1;
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
    assert_non_null(bc);
    assert_int_equal(crit, 1);
    assert_true(bc->ca);
    assert_non_null(bc->pathlen);
    assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
    BASIC_CONSTRAINTS_free(bc);
    assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_non_null(X509_get0_subject_key_id(x));
    int64_t now = (int64_t)time(NULL);
    int64_t not_after = asn1_time_epoch(X509_get0_notAfter(x));
    assert_true(not_after > now + 9 * 365 * 86400LL);
    X509_free(x);
}

static void test_ca_refused(void **state)
{
    (void)state;
    char err[512] = "";
    struct fe_ca *ca = NULL;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path_in("ca2"));
    assert_true(fe_ca_open(dir, &ca, err, sizeof err));
    fe_ca_destroy(&ca);

    /* A key readable by others. */
    assert_int_equal(chmod(path_in("ca2/ca-key.pem"), 0644), 0);
    assert_false(fe_ca_open(dir, &ca, err, sizeof err));
    assert_null(ca);
    assert_non_null(strstr(err, "chmod 600"));
    assert_int_equal(chmod(path_in("ca2/ca-key.pem"), 0600), 0);

    /* A key without its certificate names the file to remove. */
    assert_int_equal(rename(path_in("ca2/ca.pem"), path_in("ca2/ca.pem.away")), 0);
    assert_false(fe_ca_open(dir, &ca, err, sizeof err));
    assert_non_null(strstr(err, "half-written"));
    assert_non_null(strstr(err, "remove"));
    assert_non_null(strstr(err, "ca-key.pem"));

    /* A certificate without its key, and a certificate of another key. */
    assert_int_equal(rename(path_in("ca2/ca.pem.away"), path_in("ca2/ca.pem")), 0);
    assert_int_equal(rename(path_in("ca2/ca-key.pem"), path_in("ca2/ca-key.pem.away")), 0);
    assert_false(fe_ca_open(dir, &ca, err, sizeof err));
    assert_non_null(strstr(err, "no key"));
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd,
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out '%s' "
             "2>/dev/null && chmod 600 '%s'",
             path_in("ca2/ca-key.pem"), path_in("ca2/ca-key.pem"));
    assert_int_equal(run_shell(cmd), 0);
    assert_false(fe_ca_open(dir, &ca, err, sizeof err));
    assert_non_null(strstr(err, "is not the key"));

    /* Not a key at all. */
    FILE *f = fopen(path_in("ca2/ca-key.pem"), "w");
    assert_non_null(f);
    fputs("not a key\n", f);
    fclose(f);
    assert_false(fe_ca_open(dir, &ca, err, sizeof err));
    assert_non_null(strstr(err, "no PEM private key"));
    assert_false(fe_ca_open(NULL, &ca, err, sizeof err));
}

/* ---- host certificates ---------------------------------------------------------------- */

struct issued {
    EVP_PKEY *key;
    X509 *cert;
    STACK_OF(X509) * chain;
};

static void issued_free(struct issued *is)
{
    EVP_PKEY_free(is->key);
    X509_free(is->cert);
    sk_X509_pop_free(is->chain, X509_free);
}

static struct fe_ca *open_ca(const char *name)
{
    char err[512] = "";
    struct fe_ca *ca = NULL;
    assert_true(fe_ca_open(path_in(name), &ca, err, sizeof err));
    return ca;
}

static void issue(struct fe_ca *ca, const char *host, int64_t valid_s, const char *p12,
                  struct issued *out)
{
    char err[512] = "";
    if (!fe_ca_issue_host(ca, host, valid_s, p12, PASS, err, sizeof err)) {
        fail_msg("fe_ca_issue_host(%s): %s", host, err);
    }
    assert_int_equal(mode_of(p12), 0600);
    memset(out, 0, sizeof *out);
    assert_true(read_p12(p12, PASS, &out->key, &out->cert, &out->chain));
    assert_non_null(out->key);
    assert_non_null(out->cert);
}

static void test_host_certificate_fields(void **state)
{
    (void)state;
    struct fe_ca *ca = open_ca("ca3");
    X509 *cax = read_pem_cert(path_in("ca3/ca.pem"));
    struct issued a, b;
    int64_t now = (int64_t)time(NULL);
    issue(ca, "127.0.0.1", 3600, path_in("a.p12"), &a);

    /* P-256 key matching the certificate. */
    assert_true(EVP_PKEY_is_a(a.key, "EC"));
    assert_int_equal(EVP_PKEY_get_bits(a.key), 256);
    assert_int_equal(X509_check_private_key(a.cert, a.key), 1);
    /* SAN IP (not DNS), CN = the host. */
    assert_int_equal(X509_check_ip_asc(a.cert, "127.0.0.1", 0), 1);
    assert_int_equal(
        X509_check_host(a.cert, "127.0.0.1", 0, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL), 0);
    char cn[128] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(a.cert), NID_commonName, cn, sizeof cn);
    assert_string_equal(cn, "127.0.0.1");
    /* serverAuth, digitalSignature, not a CA, AKI = the CA's SKI, signed by the CA. */
    assert_true(X509_get_extended_key_usage(a.cert) & XKU_SSL_SERVER);
    assert_int_equal(X509_get_key_usage(a.cert), KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_check_ca(a.cert), 0);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(a.cert);
    assert_non_null(aki);
    assert_int_equal(ASN1_OCTET_STRING_cmp(aki, X509_get0_subject_key_id(cax)), 0);
    assert_int_equal(X509_check_issued(cax, a.cert), X509_V_OK);
    /* Valid from 5 minutes ago for the time asked. */
    int64_t nb = asn1_time_epoch(X509_get0_notBefore(a.cert));
    int64_t na = asn1_time_epoch(X509_get0_notAfter(a.cert));
    assert_true(nb >= now - 300 - 5 && nb <= now - 300 + 5);
    assert_true(na >= now + 3600 - 5 && na <= now + 3600 + 5);
    /* The CA certificate travels in the file. */
    assert_int_equal(sk_X509_num(a.chain), 1);
    assert_int_equal(X509_cmp(sk_X509_value(a.chain, 0), cax), 0);
    /* Serials: 128 random bits, so two differ and none is longer than 16 bytes. */
    issue(ca, "127.0.0.1", 3600, path_in("b.p12"), &b);
    BIGNUM *sa = ASN1_INTEGER_to_BN(X509_get0_serialNumber(a.cert), NULL);
    BIGNUM *sb = ASN1_INTEGER_to_BN(X509_get0_serialNumber(b.cert), NULL);
    assert_true(BN_num_bytes(sa) <= 16 && BN_num_bytes(sb) <= 16);
    assert_true(BN_num_bits(sa) > 64 && BN_num_bits(sb) > 64);
    assert_int_not_equal(BN_cmp(sa, sb), 0);
    assert_false(BN_is_negative(sa));
    BN_free(sa);
    BN_free(sb);
    /* A different key each time. */
    assert_int_not_equal(EVP_PKEY_eq(a.key, b.key), 1);
    issued_free(&b);

    /* A wrong passphrase opens nothing. */
    EVP_PKEY *k = NULL;
    X509 *c = NULL;
    STACK_OF(X509) *ch = NULL;
    assert_false(read_p12(path_in("a.p12"), "wrong", &k, &c, &ch));
    EVP_PKEY_free(k);
    X509_free(c);
    sk_X509_pop_free(ch, X509_free);

    /* DNS names and IPv6 addresses. */
    struct issued d, v6;
    issue(ca, "render-1.example.org", 60, path_in("d.p12"), &d);
    assert_int_equal(X509_check_host(d.cert, "render-1.example.org", 0,
                                     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL),
                     1);
    assert_int_equal(X509_check_ip_asc(d.cert, "127.0.0.1", 0), 0);
    issue(ca, "::1", 60, path_in("v6.p12"), &v6);
    assert_int_equal(X509_check_ip_asc(v6.cert, "::1", 0), 1);
    issued_free(&d);
    issued_free(&v6);
    /* Issuing again replaces the file. */
    issue(ca, "localhost", 60, path_in("a.p12"), &b);
    assert_int_equal(X509_check_host(b.cert, "localhost", 0, 0, NULL), 1);
    issued_free(&b);
    issued_free(&a);
    X509_free(cax);
    fe_ca_destroy(&ca);
}

static void test_host_certificate_bad_arguments(void **state)
{
    (void)state;
    struct fe_ca *ca = open_ca("ca4");
    char err[512];
    const char *p12 = path_in("bad.p12");
    const char *bad_hosts[] = {"",           "bad host", "a..b",      "-a.example", "a-.example",
                               "a.example.", "x_y",      "*.example", "1.2.3.4/8"};
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
        err[0] = '\0';
        assert_false(fe_ca_issue_host(ca, bad_hosts[i], 60, p12, PASS, err, sizeof err));
        assert_non_null(strstr(err, "neither"));
    }
    char long_label[80];
    memset(long_label, 'a', 64);
    long_label[64] = '\0';
    assert_false(fe_ca_issue_host(ca, long_label, 60, p12, PASS, err, sizeof err));
    /* A DNS name longer than a CN may be goes into the SAN only. */
    char long_name[200];
    snprintf(long_name, sizeof long_name, "%.60s.%.60s.example", long_label, long_label);
    assert_true(fe_ca_issue_host(ca, long_name, 60, p12, PASS, err, sizeof err));
    assert_false(fe_ca_issue_host(ca, "localhost", 60, p12, "", err, sizeof err));
    assert_non_null(strstr(err, "passphrase"));
    assert_false(fe_ca_issue_host(ca, "localhost", 0, p12, PASS, err, sizeof err));
    assert_false(fe_ca_issue_host(ca, "localhost", -5, p12, PASS, err, sizeof err));
    assert_false(
        fe_ca_issue_host(ca, "localhost", 60, "/nonexistent/dir/x.p12", PASS, err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir"));
    assert_false(fe_ca_issue_host(NULL, "localhost", 60, p12, PASS, err, sizeof err));
    fe_ca_destroy(&ca);
}

/* OpenSSL's command line: the PKCS#12 opens (MAC and AES-256/PBKDF2 bags) and `openssl verify`
 * accepts the host certificate for TLS servers with ca.pem, and refuses it with another CA. */
static void test_openssl_verify(void **state)
{
    (void)state;
    struct fe_ca *ca = open_ca("ca5");
    struct fe_ca *other = open_ca("ca6");
    struct issued a;
    issue(ca, "127.0.0.1", 600, path_in("v.p12"), &a);
    write_pem_cert(a.cert, path_in("v-host.pem"));
    issued_free(&a);
    char cmd[4 * PATH_MAX];
    setenv("FE_TEST_P12_PASS", PASS, 1);
    snprintf(cmd, sizeof cmd, "openssl pkcs12 -in '%s' -passin env:FE_TEST_P12_PASS -noout",
             path_in("v.p12"));
    assert_int_equal(run_shell(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "openssl pkcs12 -in '%s' -passin env:FE_TEST_P12_PASS -info -nokeys -noout 2>&1 | "
             "grep -q 'AES-256-CBC'",
             path_in("v.p12"));
    assert_int_equal(run_shell(cmd), 0);
    snprintf(cmd, sizeof cmd,
             "openssl verify -CAfile '%s' -purpose sslserver -verify_ip 127.0.0.1 '%s' "
             ">/dev/null",
             path_in("ca5/ca.pem"), path_in("v-host.pem"));
    assert_int_equal(run_shell(cmd), 0);
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile '%s' -purpose sslserver '%s' >/dev/null 2>&1",
             path_in("ca6/ca.pem"), path_in("v-host.pem"));
    assert_int_not_equal(run_shell(cmd), 0);
    unsetenv("FE_TEST_P12_PASS");
    fe_ca_destroy(&other);
    fe_ca_destroy(&ca);
}

/* The remoting library's system validation with ca.pem as the only trust anchor. */
static void validate(const char *ca_pem, X509 *leaf, const char *server_name,
                     struct rr_certificate_validation_result *out)
{
    struct rr_validation_params p;
    memset(&p, 0, sizeof p);
    snprintf(p.ca_file, sizeof p.ca_file, "%s", ca_pem);
    snprintf(p.server_name, sizeof p.server_name, "%s", server_name);
    p.no_system_trust = true;
    char detail[256];
    p.store = rr_validation_store(&p, detail, sizeof detail);
    assert_non_null(p.store);
    STACK_OF(X509) *chain = sk_X509_new_null();
    assert_non_null(chain);
    sk_X509_push(chain, leaf);
    rr_validation_system_x509(&p, chain, out, detail, sizeof detail);
    sk_X509_free(chain);
    X509_STORE_free(p.store);
}

static void test_remoting_validation(void **state)
{
    (void)state;
    struct fe_ca *ca = open_ca("ca7");
    struct fe_ca *other = open_ca("ca8");
    struct issued a;
    issue(ca, "127.0.0.1", 600, path_in("r.p12"), &a);
    struct rr_certificate_validation_result r;
    validate(path_in("ca7/ca.pem"), a.cert, "127.0.0.1", &r);
    assert_true(rr_certificate_validation_result_ok(&r));
    assert_true(r.trusted_root);
    assert_int_equal(r.name_validation_result, RR_NAME_MATCH);
    validate(path_in("ca7/ca.pem"), a.cert, "localhost", &r);
    assert_int_equal(r.name_validation_result, RR_NAME_MISMATCH);
    assert_false(rr_certificate_validation_result_ok(&r));
    validate(path_in("ca8/ca.pem"), a.cert, "127.0.0.1", &r);
    assert_false(r.trusted_root);
    assert_false(rr_certificate_validation_result_ok(&r));
    issued_free(&a);

    /* A real TLS 1.3 connection: the host side serves the PKCS#12, the client trusts only
     * ca.pem and connects by the address the certificate names. */
    struct rr_context_config sc = rr_test_config(RR_ROLE_REMOTE);
    struct rr_context_config cc = rr_test_config(RR_ROLE_PLAYER);
    cc.ca_file = path_in("ca7/ca.pem");
    cc.no_system_trust = true;
    cc.no_revocation_fetch = true;
    struct rr_context *server = NULL, *client = NULL;
    assert_int_equal(rr_context_create(&sc, &server), RR_OK);
    assert_int_equal(rr_context_create(&cc, &client), RR_OK);
    struct rr_test_cert_provider cert;
    struct rr_test_token_receiver receiver;
    struct rr_test_token_provider provider;
    assert_true(rr_test_cert_provider_init(&cert, path_in("r.p12"), NULL, PASS));
    rr_test_token_receiver_init(&receiver, "ca-token", "openrr:test");
    rr_test_token_provider_init(&provider, "ca-token");
    assert_int_equal(
        rr_context_listen_secure(server, "127.0.0.1", 0, 0, &cert.base, &receiver.base), RR_OK);
    uint16_t port = rr_test_wait_listening(server, 5000);
    assert_int_not_equal(port, 0);
    assert_int_equal(rr_context_connect_secure(client, "127.0.0.1", port, &provider.base, NULL),
                     RR_OK);
    assert_true(rr_test_wait_event(client, RR_EVENT_CONNECTED, 8000, NULL));
    struct rr_connection_info info;
    assert_int_equal(rr_context_connection_info(client, &info), RR_OK);
    assert_true(info.secure);
    assert_true(info.has_validation);
    assert_true(info.system_validation.trusted_root);
    assert_int_equal(info.system_validation.name_validation_result, RR_NAME_MATCH);
    rr_context_destroy(&client);
    rr_context_destroy(&server);
    rr_test_cert_provider_fini(&cert);
    fe_ca_destroy(&other);
    fe_ca_destroy(&ca);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ca_created_then_loaded),
        cmocka_unit_test(test_ca_refused),
        cmocka_unit_test(test_host_certificate_fields),
        cmocka_unit_test(test_host_certificate_bad_arguments),
        cmocka_unit_test(test_openssl_verify),
        cmocka_unit_test(test_remoting_validation),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
