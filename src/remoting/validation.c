/* SPDX-License-Identifier: Apache-2.0 */
/*
 * System validation (DESIGN §4.3). One X509_verify_cert pass with a verify callback that
 * records every problem as a result flag and lets verification go on, so that one run reports
 * all flags (an expired certificate with a wrong name shows both). Revocation: CRLs from the
 * configured file and from distribution points go through OpenSSL's CRL check; a certificate
 * whose CRL status stays unknown is asked about over OCSP. Runs on a worker thread.
 */
#include "validation.h"

#include "net.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define RR_MAX_CHAIN RR_MAX_CHAIN_LENGTH

struct verify_state {
    struct rr_certificate_validation_result *res;
    bool name_checked;
    bool crl_unknown[RR_MAX_CHAIN + 2];
    int first_error;
    int first_error_depth;
};

static int g_state_idx = -1;
static pthread_once_t g_state_once = PTHREAD_ONCE_INIT;

static void state_idx_init(void)
{
    g_state_idx = X509_STORE_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int verify_cb(int ok, X509_STORE_CTX *xs)
{
    if (ok) {
        return 1;
    }
    struct verify_state *st = X509_STORE_CTX_get_ex_data(xs, g_state_idx);
    int err = X509_STORE_CTX_get_error(xs);
    int depth = X509_STORE_CTX_get_error_depth(xs);
    struct rr_certificate_validation_result *r = st->res;
    bool recorded_as_revocation = false;
    switch (err) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_REJECTED:
        r->trusted_root = false;
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
    case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
    case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
        r->expired = true;
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        r->wrong_usage = true;
        break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        r->name_validation_result = RR_NAME_MISMATCH;
        break;
    case X509_V_ERR_CERT_REVOKED:
        r->revoked = true;
        break;
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_DIFFERENT_CRL_SCOPE:
    case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
    case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
    case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
        /* The CRL route failed; OCSP may still answer (checked after this pass). */
        if (depth >= 0 && depth <= RR_MAX_CHAIN) {
            st->crl_unknown[depth] = true;
        }
        recorded_as_revocation = true;
        break;
    default:
        r->invalid_cert_or_chain = true;
        break;
    }
    if (!recorded_as_revocation && st->first_error == 0) {
        st->first_error = err;
        st->first_error_depth = depth;
    }
    return 1; /* keep going: report every flag */
}

/* The last trust store built, for the next context with the same sources: loading the system
 * store or a CA file costs far more than a TLS handshake. A changed file (mtime, size) is
 * loaded afresh. */
struct store_key {
    char ca_file[512];
    char crl_file[512];
    bool no_system_trust;
    struct timespec ca_mtime, crl_mtime;
    off_t ca_size, crl_size;
};

static pthread_mutex_t g_store_lock = PTHREAD_MUTEX_INITIALIZER;
static X509_STORE *g_store;
static struct store_key g_store_key;

static void file_stamp(const char *path, struct timespec *mtime, off_t *size)
{
    struct stat st;
    memset(mtime, 0, sizeof(*mtime));
    *size = -1;
    if (path[0] != '\0' && stat(path, &st) == 0) {
        *mtime = st.st_mtim;
        *size = st.st_size;
    }
}

static X509_STORE *build_store(const struct rr_validation_params *p, char *detail, size_t n);

X509_STORE *rr_validation_store(const struct rr_validation_params *p, char *detail, size_t n)
{
    struct store_key key;
    memset(&key, 0, sizeof(key));
    snprintf(key.ca_file, sizeof(key.ca_file), "%s", p->ca_file);
    snprintf(key.crl_file, sizeof(key.crl_file), "%s", p->crl_file);
    key.no_system_trust = p->no_system_trust;
    file_stamp(p->ca_file, &key.ca_mtime, &key.ca_size);
    file_stamp(p->crl_file, &key.crl_mtime, &key.crl_size);
    pthread_mutex_lock(&g_store_lock);
    X509_STORE *store = NULL;
    if (g_store != NULL && memcmp(&key, &g_store_key, sizeof(key)) == 0) {
        store = g_store;
        X509_STORE_up_ref(store);
    }
    pthread_mutex_unlock(&g_store_lock);
    if (store != NULL) {
        return store;
    }
    store = build_store(p, detail, n);
    if (store != NULL) {
        pthread_mutex_lock(&g_store_lock);
        X509_STORE_free(g_store);
        g_store = store;
        memcpy(&g_store_key, &key, sizeof(key));
        X509_STORE_up_ref(store);
        pthread_mutex_unlock(&g_store_lock);
    }
    return store;
}

static X509_STORE *build_store(const struct rr_validation_params *p, char *detail, size_t n)
{
    X509_STORE *store = X509_STORE_new();
    if (store == NULL) {
        snprintf(detail, n, "out of memory");
        return NULL;
    }
    bool ok = true;
    if (!p->no_system_trust && X509_STORE_set_default_paths(store) != 1) {
        snprintf(detail, n, "cannot load the system trust store");
        ok = false;
    }
    /* X509_STORE_load_file takes every certificate and CRL of a PEM file. */
    if (ok && p->ca_file[0] != '\0' && X509_STORE_load_file(store, p->ca_file) != 1) {
        snprintf(detail, n, "cannot load CA file %.200s", p->ca_file);
        ok = false;
    }
    /* Only the CRLs of the CRL file: a certificate in it must not become a trust anchor. */
    X509_LOOKUP *lu =
        ok && p->crl_file[0] != '\0' ? X509_STORE_add_lookup(store, X509_LOOKUP_file()) : NULL;
    if (ok && p->crl_file[0] != '\0' &&
        (lu == NULL || X509_load_crl_file(lu, p->crl_file, X509_FILETYPE_PEM) <= 0)) {
        snprintf(detail, n, "cannot load CRL file %.200s", p->crl_file);
        ok = false;
    }
    ERR_clear_error();
    if (!ok) {
        X509_STORE_free(store);
        return NULL;
    }
    return store;
}

static void set_name(X509_STORE_CTX *xs, const char *server_name, struct verify_state *st)
{
    if (server_name == NULL || server_name[0] == '\0') {
        return;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(xs);
    char bare[256];
    rr_net_strip_brackets(server_name, bare, sizeof(bare));
    int ok = rr_net_is_ip_literal(bare) ? X509_VERIFY_PARAM_set1_ip_asc(vp, bare)
                                        : X509_VERIFY_PARAM_set1_host(vp, bare, 0);
    st->name_checked = ok == 1;
}

static void check_ocsp(const struct rr_validation_params *p, X509_STORE *store,
                       STACK_OF(X509) * untrusted, STACK_OF(X509) * verified,
                       struct verify_state *st, bool *unknown, char *detail, size_t n)
{
    int count = verified != NULL ? sk_X509_num(verified) : 0;
    /* The last certificate is the trust anchor and has no revocation status. */
    for (int d = 0; d + 1 < count && d <= RR_MAX_CHAIN; d++) {
        if (!st->crl_unknown[d]) {
            continue;
        }
        enum rr_revocation_status rs = RR_REVOCATION_UNKNOWN;
        char why[200] = "no revocation information";
        if (p->fetch) {
            rs = rr_revocation_ocsp(sk_X509_value(verified, d), sk_X509_value(verified, d + 1),
                                    store, untrusted, p->timeout_s, why, sizeof(why));
        }
        if (rs == RR_REVOCATION_REVOKED) {
            st->res->revoked = true;
            snprintf(detail, n, "certificate at depth %d: %s", d, why);
        } else if (rs == RR_REVOCATION_UNKNOWN) {
            *unknown = true;
            if (detail[0] == '\0') {
                snprintf(detail, n, "revocation status of the certificate at depth %d unknown: %s",
                         d, why);
            }
        }
    }
}

void rr_validation_system(const struct rr_validation_params *p,
                          const struct rr_certificate_chain *chain,
                          struct rr_certificate_validation_result *out, char *detail,
                          size_t detail_size)
{
    memset(out, 0, sizeof(*out));
    out->invalid_cert_or_chain = true;
    detail[0] = '\0';
    if (chain == NULL || chain->count == 0 || chain->count > RR_MAX_CHAIN) {
        snprintf(detail, detail_size, "empty or overlong certificate chain");
        return;
    }
    STACK_OF(X509) *certs = sk_X509_new_null();
    for (size_t i = 0; certs != NULL && i < chain->count; i++) {
        const unsigned char *d = chain->certificates[i].data;
        X509 *c = d2i_X509(NULL, &d, (long)chain->certificates[i].size);
        if (c == NULL || d != chain->certificates[i].data + chain->certificates[i].size ||
            sk_X509_push(certs, c) <= 0) {
            X509_free(c);
            snprintf(detail, detail_size, "certificate %zu of the chain cannot be decoded", i);
            sk_X509_pop_free(certs, X509_free);
            ERR_clear_error();
            return;
        }
    }
    if (certs != NULL) {
        rr_validation_system_x509(p, certs, out, detail, detail_size);
    }
    sk_X509_pop_free(certs, X509_free);
}

void rr_validation_system_x509(const struct rr_validation_params *p, STACK_OF(X509) * chain,
                               struct rr_certificate_validation_result *out, char *detail,
                               size_t detail_size)
{
    pthread_once(&g_state_once, state_idx_init);
    memset(out, 0, sizeof(*out));
    detail[0] = '\0';
    out->trusted_root = true;
    out->name_validation_result = RR_NAME_NOT_CHECKED;

    int count = chain != NULL ? sk_X509_num(chain) : 0;
    X509 *leaf = count > 0 ? sk_X509_value(chain, 0) : NULL;
    STACK_OF(X509) *untrusted = chain; /* the leaf among them does no harm */
    X509_STORE *store = p->store;
    X509_STORE_CTX *xs = X509_STORE_CTX_new();
    STACK_OF(X509_CRL) *crls = sk_X509_CRL_new_null();
    struct verify_state st;
    memset(&st, 0, sizeof(st));
    st.res = out;

    if (count == 0 || count > RR_MAX_CHAIN) {
        out->invalid_cert_or_chain = true;
        out->trusted_root = false;
        snprintf(detail, detail_size, "empty or overlong certificate chain");
        goto out;
    }
    if (store == NULL || xs == NULL || untrusted == NULL || crls == NULL) {
        out->trusted_root = false;
        out->invalid_cert_or_chain = true;
        if (detail[0] == '\0') {
            snprintf(detail, detail_size, "no trust store");
        }
        goto out;
    }
    if (p->fetch) {
        for (int i = 0; i < count; i++) {
            rr_revocation_fetch_crls(sk_X509_value(chain, i), crls, p->timeout_s);
        }
    }
    if (X509_STORE_CTX_init(xs, store, leaf, untrusted) != 1) {
        out->invalid_cert_or_chain = true;
        goto out;
    }
    X509_STORE_CTX_set0_crls(xs, crls);
    X509_STORE_CTX_set_ex_data(xs, g_state_idx, &st);
    X509_STORE_CTX_set_verify_cb(xs, verify_cb);
    X509_STORE_CTX_set_purpose(xs, X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_flags(xs, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    set_name(xs, p->server_name, &st);
    if (X509_verify_cert(xs) < 0) {
        out->invalid_cert_or_chain = true;
        out->trusted_root = false;
    }
    if (st.name_checked && out->name_validation_result != RR_NAME_MISMATCH) {
        out->name_validation_result = RR_NAME_MATCH;
    }
    if (st.first_error != 0) {
        snprintf(detail, detail_size, "certificate at depth %d: %s", st.first_error_depth,
                 X509_verify_cert_error_string(st.first_error));
    }
    bool unknown = false;
    if (out->trusted_root) {
        STACK_OF(X509) *verified = X509_STORE_CTX_get1_chain(xs);
        char rdetail[200] = "";
        check_ocsp(p, store, untrusted, verified, &st, &unknown, rdetail, sizeof(rdetail));
        sk_X509_pop_free(verified, X509_free);
        if (rdetail[0] != '\0' && (out->revoked || (unknown && p->force_revocation_check)) &&
            st.first_error == 0) {
            snprintf(detail, detail_size, "%s", rdetail);
        }
    } else {
        unknown = true; /* an untrusted chain has no trustworthy revocation status */
    }
    if (unknown && p->force_revocation_check && !out->revoked) {
        out->revocation_check_failed = true;
    }
out:
    ERR_clear_error();
    X509_STORE_CTX_free(xs);
    sk_X509_CRL_pop_free(crls, X509_CRL_free);
}

static bool has_http_uri(GENERAL_NAMES *names)
{
    for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
        if (gn->type == GEN_URI &&
            strncasecmp((const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
                        "http://", 7) == 0) {
            return true;
        }
    }
    return false;
}

static bool cert_may_fetch(X509 *c)
{
    bool fetch = false;
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(c, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; !fetch && dps != NULL && i < sk_DIST_POINT_num(dps); i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        fetch = dp->distpoint != NULL && dp->distpoint->type == 0 &&
                has_http_uri(dp->distpoint->name.fullname);
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    STACK_OF(OPENSSL_STRING) *ocsp = X509_get1_ocsp(c);
    fetch = fetch || (ocsp != NULL && sk_OPENSSL_STRING_num(ocsp) > 0);
    X509_email_free(ocsp);
    return fetch;
}

bool rr_validation_may_fetch_x509(STACK_OF(X509) * chain)
{
    bool fetch = false;
    for (int i = 0; !fetch && i < sk_X509_num(chain); i++) {
        fetch = cert_may_fetch(sk_X509_value(chain, i));
    }
    ERR_clear_error();
    return fetch;
}

struct worker_arg {
    struct rr_validation_params params;
    struct rr_request *req;
};

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    rr_net_block_sigpipe(); /* revocation fetches write to sockets */
    struct rr_certificate_validation_result res;
    char detail[160];
    rr_validation_system(&wa->params, &wa->req->chain, &res, detail, sizeof(detail));
    OPENSSL_thread_stop();
    rr_request_complete_system(wa->req, &res, detail); /* drops the worker's reference */
    X509_STORE_free(wa->params.store);
    free(wa);
    return NULL;
}

bool rr_validation_start(const struct rr_validation_params *p, struct rr_request *req,
                         pthread_t *out_thread)
{
    struct worker_arg *wa = calloc(1, sizeof(*wa));
    if (wa == NULL) {
        return false;
    }
    wa->params = *p;
    wa->req = req;
    if (p->store != NULL) {
        X509_STORE_up_ref(p->store);
    }
    if (pthread_create(out_thread, NULL, worker_main, wa) != 0) {
        X509_STORE_free(wa->params.store);
        free(wa);
        return false;
    }
    return true;
}
