/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TLS contexts of the secure transport: TLS 1.3 only, forward-secret AEAD suites only
 * (every TLS 1.3 suite is), X25519/P-256/P-384 key exchange, no session tickets (each
 * connection authenticates afresh; the token cache saves the round trip instead).
 * Any thread for creation; SSL objects are used by the network thread only.
 */
#include "context.h"

#include <openssl/err.h>
#include <stdio.h>

#define RR_TLS_SUITES "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"
#define RR_TLS_GROUPS "X25519:P-256:P-384"

static int g_conn_index = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void index_init(void)
{
    g_conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

int rr_tls_conn_index(void)
{
    pthread_once(&g_once, index_init);
    return g_conn_index;
}

static SSL_CTX *common(const SSL_METHOD *method)
{
    SSL_CTX *c = SSL_CTX_new(method);
    if (c == NULL) {
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION) != 1 ||
        SSL_CTX_set_ciphersuites(c, RR_TLS_SUITES) != 1 ||
        SSL_CTX_set1_groups_list(c, RR_TLS_GROUPS) != 1) {
        SSL_CTX_free(c);
        return NULL;
    }
    SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    /* Read whole socket chunks into OpenSSL's buffer instead of a header read and a body read
     * per TLS record; conn.c treats buffered bytes (SSL_has_pending) as readable. */
    SSL_CTX_set_read_ahead(c, 1);
    SSL_CTX_set_default_read_buffer_len(c, 64 * 1024);
    return c;
}

/* Every context uses the same TLS settings and callbacks (which find their connection through
 * the SSL object), so one client and one server SSL_CTX serve the whole process. */
static SSL_CTX *g_client;
static SSL_CTX *g_server;
static pthread_mutex_t g_shared_lock = PTHREAD_MUTEX_INITIALIZER;

static SSL_CTX *shared(SSL_CTX **slot, SSL_CTX *(*make)(void))
{
    pthread_mutex_lock(&g_shared_lock);
    if (*slot == NULL) {
        *slot = make();
    }
    SSL_CTX *c = *slot;
    if (c != NULL) {
        SSL_CTX_up_ref(c);
    }
    pthread_mutex_unlock(&g_shared_lock);
    return c;
}

static SSL_CTX *make_client(void);
static SSL_CTX *make_server(void);

SSL_CTX *rr_tls_client_ctx_create(void)
{
    return shared(&g_client, make_client);
}

SSL_CTX *rr_tls_server_ctx_create(void)
{
    return shared(&g_server, make_server);
}

static SSL_CTX *make_client(void)
{
    rr_tls_conn_index();
    SSL_CTX *c = common(TLS_client_method());
    if (c == NULL) {
        return NULL;
    }
    /* Our callback replaces OpenSSL's chain check: system validation and the application's
     * validator decide, possibly later (SSL_set_retry_verify). */
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_cert_verify_callback(c, rr_handshake_verify_cb, NULL);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    return c;
}

static SSL_CTX *make_server(void)
{
    rr_tls_conn_index();
    SSL_CTX *c = common(TLS_server_method());
    if (c == NULL) {
        return NULL;
    }
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* The certificate is attached per connection once the provider has answered. */
    SSL_CTX_set_client_hello_cb(c, rr_handshake_client_hello_cb, NULL);
    return c;
}

void rr_tls_error_string(char *out, size_t size, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    if (e != 0) {
        const char *r = ERR_reason_error_string(e);
        snprintf(out, size, "%s", r != NULL ? r : fallback);
    } else {
        snprintf(out, size, "%s", fallback);
    }
    ERR_clear_error();
}
