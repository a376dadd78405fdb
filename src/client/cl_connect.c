/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_connect — rr_session_connect: connecting a player context to the session's host over
 * secure remoting. The session object carries the two security interfaces the remoting
 * library calls: a certificate validator that verifies the host's chain with OpenSSL against
 * the service's CA (GET /.well-known/openrr/ca.pem) plus the system store, checks the name
 * against the hostname the service gave and the validity dates; and an authentication
 * provider that answers with the account's access token (only after the chain was accepted:
 * the library asks for the token after validation, so a token never reaches an unverified
 * host).
 *
 * Threads: the connect job runs on the frontend's worker (properties, CA, token, the store,
 * then rr_context_connect_secure); the interface methods run on the context's network thread
 * and only read what the job left under the connector's lock, answering at once.
 */
#include "cl_internal.h"

#include "u_log.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the interfaces (network thread) --------------------------------------------------------- */

static struct cl_connector *of_provider(struct rr_authentication_provider *p)
{
    return (struct cl_connector *)((char *)p - offsetof(struct cl_connector, provider));
}

static struct cl_connector *of_validator(struct rr_certificate_validator *v)
{
    return (struct cl_connector *)((char *)v - offsetof(struct cl_connector, validator));
}

static void get_token(struct rr_authentication_provider *self, const char *realm,
                      struct rr_token_request *req)
{
    struct cl_connector *c = of_provider(self);
    pthread_mutex_lock(&c->lock);
    const char *domain = c->session->fe->domain;
    if (realm == NULL || strncmp(realm, "openrr:", 7) != 0 || strcmp(realm + 7, domain) != 0) {
        /* The chain was verified against the service's CA, so this is one of its hosts; an
         * unexpected realm is worth a line but not a refusal. */
        U_LOG_W(CL_LOG, "session %s: the host asks for a token of realm '%s', not 'openrr:%s'",
                c->session->id, realm != NULL ? realm : "", domain);
    }
    rr_token_request_complete(req, c->token);
    pthread_mutex_unlock(&c->lock);
}

struct verify_flags {
    bool untrusted;
    bool expired;
    bool wrong_usage;
    bool revoked;
    bool invalid;
};

/* Note every problem of the chain instead of stopping at the first, so that the result names
 * them all (as the system validation of the remoting library does). */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
    if (ok) {
        return 1;
    }
    struct verify_flags *f = X509_STORE_CTX_get_app_data(ctx);
    switch (X509_STORE_CTX_get_error(ctx)) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        f->expired = true;
        break;
    case X509_V_ERR_INVALID_PURPOSE:
        f->wrong_usage = true;
        break;
    case X509_V_ERR_CERT_REVOKED:
        f->revoked = true;
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
        f->untrusted = true;
        break;
    default:
        f->invalid = true;
        break;
    }
    return 1;
}

static bool is_ip_literal(const char *name)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* Verify @p chain against @p store for @p name; fills @p out. */
static void verify_chain(X509_STORE *store, const struct rr_certificate_chain *chain,
                         const char *name, bool force_revocation,
                         struct rr_certificate_validation_result *out)
{
    memset(out, 0, sizeof(*out));
    out->name_validation_result = RR_NAME_NOT_CHECKED;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509 *leaf = NULL;
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (untrusted == NULL || ctx == NULL || store == NULL || chain == NULL || chain->count == 0) {
        out->invalid_cert_or_chain = true;
        goto done;
    }
    for (size_t i = 0; i < chain->count; i++) {
        const unsigned char *p = chain->certificates[i].data;
        X509 *x = d2i_X509(NULL, &p, (long)chain->certificates[i].size);
        if (x == NULL || p != chain->certificates[i].data + chain->certificates[i].size) {
            X509_free(x);
            out->invalid_cert_or_chain = true;
            goto done;
        }
        if (i == 0) {
            leaf = x;
        } else if (!sk_X509_push(untrusted, x)) {
            X509_free(x);
            out->invalid_cert_or_chain = true;
            goto done;
        }
    }
    struct verify_flags flags = {0};
    if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
        out->invalid_cert_or_chain = true;
        goto done;
    }
    X509_STORE_CTX_set_app_data(ctx, &flags);
    X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    int ok = X509_verify_cert(ctx);
    if (ok != 1 && !flags.untrusted && !flags.expired && !flags.wrong_usage && !flags.revoked) {
        flags.invalid = true;
    }
    out->trusted_root = !flags.untrusted && !flags.invalid;
    out->expired = flags.expired;
    out->wrong_usage = flags.wrong_usage;
    out->revoked = flags.revoked;
    out->invalid_cert_or_chain = flags.invalid;
    /* The service's hosts carry short-lived certificates without revocation information: a
     * forced check cannot be answered, which counts as failed. */
    out->revocation_check_failed = force_revocation;
    int match = is_ip_literal(name) ? X509_check_ip_asc(leaf, name, 0)
                                    : X509_check_host(leaf, name, strlen(name), 0, NULL);
    out->name_validation_result = match == 1 ? RR_NAME_MATCH : RR_NAME_MISMATCH;
done:
    X509_STORE_CTX_free(ctx);
    X509_free(leaf);
    sk_X509_pop_free(untrusted, X509_free);
    /* Keep the thread's error queue clean: the network thread shares it with TLS. */
    ERR_clear_error();
}

static void validate_certificate(struct rr_certificate_validator *self,
                                 const struct rr_certificate_chain *chain, const char *server_name,
                                 bool force_revocation_check,
                                 const struct rr_certificate_validation_result *system_result,
                                 struct rr_certificate_validation *req)
{
    struct cl_connector *c = of_validator(self);
    char name[256];
    pthread_mutex_lock(&c->lock);
    X509_STORE *store = c->store;
    if (store != NULL) {
        X509_STORE_up_ref(store);
    }
    snprintf(name, sizeof(name), "%s", c->hostname);
    pthread_mutex_unlock(&c->lock);

    struct rr_certificate_validation_result result;
    verify_chain(store, chain, name, force_revocation_check, &result);
    X509_STORE_free(store);
    if (!rr_certificate_validation_result_ok(&result)) {
        char flags[256];
        U_LOG_W(CL_LOG, "session %s: the host's certificate for %s is refused: %s", c->session->id,
                name, rr_certificate_validation_result_format(&result, flags, sizeof(flags)));
    }
    rr_certificate_validation_complete(req, &result);
}

void cl_connector_init(struct cl_connector *c, struct rr_session *s)
{
    memset(c, 0, sizeof(*c));
    c->session = s;
    c->provider.get_token = get_token;
    c->validator.perform_system_validation = false;
    c->validator.validate_certificate = validate_certificate;
    pthread_mutex_init(&c->lock, NULL);
}

void cl_connector_fini(struct cl_connector *c)
{
    cl_free_secret(c->token);
    c->token = NULL;
    X509_STORE_free(c->store);
    c->store = NULL;
    pthread_mutex_destroy(&c->lock);
}

/* ---- the connect job (worker) ---------------------------------------------------------------- */

/* A store with the system's roots and every certificate of @p pem. NULL on failure. */
static X509_STORE *make_store(const char *pem, size_t size, char *err, size_t err_size)
{
    X509_STORE *store = X509_STORE_new();
    BIO *bio = BIO_new_mem_buf(pem, (int)size);
    int added = 0;
    if (store == NULL || bio == NULL) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    /* The system store is optional: a machine without one still trusts the service's CA. */
    X509_STORE_set_default_paths(store);
    X509 *x;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, x) == 1) {
            added++;
        }
        X509_free(x);
    }
    if (added == 0) {
        snprintf(err, err_size, "the service's CA file holds no usable certificate");
        goto fail;
    }
    BIO_free(bio);
    ERR_clear_error();
    return store;
fail:
    BIO_free(bio);
    X509_STORE_free(store);
    ERR_clear_error();
    return NULL;
}

struct connect_job {
    struct cl_job base;
    rr_session_done_fn done;
    struct rr_context *ctx;
};

static void connect_run(struct cl_job *job)
{
    struct connect_job *j = (struct connect_job *)job;
    struct rr_session *s = job->session;
    struct rr_session_properties p;
    if (!rr_session_cached_properties(s, &p)) {
        cl_job_fail(job, RR_CLIENT_NOT_INITIALIZED,
                    "session %s: no properties cached yet (get its properties first)", s->id);
        return;
    }
    /* Fresh properties: the host may have gone since the cache was filled. */
    char path[CL_URL_SIZE], err[CL_MESSAGE_SIZE];
    snprintf(path, sizeof(path), "/accounts/%s/sessions/%s", job->fe->account_id, s->id);
    struct cl_http_response r;
    if (cl_rest(job, "GET", path, NULL, 0, &r) != RR_CLIENT_SUCCESS) {
        return;
    }
    bool parsed = cl_json_session(r.body, r.size, &p, err, sizeof(err));
    cl_http_response_free(&r);
    if (!parsed) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "session %s: %s", s->id, err);
        return;
    }
    cl_session_set_props(s, &p);
    if (p.status == RR_SESSION_STARTING) {
        cl_job_fail(job, RR_CLIENT_IN_PROGRESS, "session %s is still Starting", s->id);
        return;
    }
    if (p.status != RR_SESSION_READY) {
        cl_job_fail(job, RR_CLIENT_SESSION_NOT_FOUND, "session %s is %s", s->id,
                    rr_session_status_str(p.status));
        return;
    }
    if (p.hostname[0] == '\0' || p.handshake_port == 0) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE,
                    "session %s is Ready but the service gave no hostname or handshake port",
                    s->id);
        return;
    }
    if (cl_service_ca(job) != RR_CLIENT_SUCCESS) {
        return;
    }
    X509_STORE *store = make_store(job->fe->ca_pem, job->fe->ca_pem_size, err, sizeof(err));
    if (store == NULL) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "%s", err);
        return;
    }
    char token[RR_MAX_TOKEN_SIZE + 1];
    if (cl_access_token(job, token, sizeof(token)) != RR_CLIENT_SUCCESS) {
        X509_STORE_free(store);
        if (job->result == RR_CLIENT_NO_CONNECTION || job->result == RR_CLIENT_API_UNAVAILABLE) {
            return;
        }
        /* "AUTHENTICATION_FAILED (no token)". */
        job->result = RR_CLIENT_AUTHENTICATION_FAILED;
        return;
    }
    char *copy = strdup(token);
    OPENSSL_cleanse(token, sizeof(token));
    if (copy == NULL) {
        X509_STORE_free(store);
        cl_job_fail(job, RR_CLIENT_OUT_OF_MEMORY, "out of memory");
        return;
    }
    struct cl_connector *c = &s->conn;
    pthread_mutex_lock(&c->lock);
    cl_free_secret(c->token);
    c->token = copy;
    X509_STORE_free(c->store);
    c->store = store;
    snprintf(c->hostname, sizeof(c->hostname), "%s", p.hostname);
    pthread_mutex_unlock(&c->lock);

    enum rr_result rr = rr_context_connect_secure(j->ctx, p.hostname, p.handshake_port,
                                                  &c->provider, &c->validator);
    if (rr == RR_ERROR_WRONG_STATE) {
        cl_job_fail(job, RR_CLIENT_ALREADY_CONNECTED,
                    "the context is already connected or connecting");
    } else if (rr != RR_OK) {
        cl_job_fail(
            job, rr == RR_ERROR_OUT_OF_MEMORY ? RR_CLIENT_OUT_OF_MEMORY : RR_CLIENT_INVALID_PARAM,
            "rr_context_connect_secure(%s:%u): %s", p.hostname, p.handshake_port,
            rr_result_str(rr));
    }
}

static void connect_deliver(struct cl_job *job)
{
    struct connect_job *j = (struct connect_job *)job;
    j->done(job->user, job->result);
}

static const struct cl_job_ops connect_ops = {connect_run, connect_deliver, NULL};

enum rr_client_result rr_session_connect(struct rr_session *session, struct rr_context *ctx,
                                         rr_session_done_fn done, void *user)
{
    enum rr_client_result r = cl_session_enter(session, done != NULL, "rr_session_connect");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    if (ctx == NULL || rr_context_role(ctx) != RR_ROLE_PLAYER) {
        cl_set_thread_error(session->fe->serial,
                            "rr_session_connect needs a context of role RR_ROLE_PLAYER");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (rr_context_state(ctx, NULL) != RR_STATE_DISCONNECTED) {
        cl_set_thread_error(session->fe->serial, "the context is already connected or connecting");
        return RR_CLIENT_ALREADY_CONNECTED;
    }
    struct connect_job *j = cl_job_new(sizeof(*j), session->fe, &connect_ops, user);
    if (j != NULL) {
        j->done = done;
        j->ctx = ctx;
    }
    return cl_session_start(session, CL_BUSY_CONNECT, j ? &j->base : NULL, "rr_session_connect");
}
