/* SPDX-License-Identifier: Apache-2.0 */
/*
 * context — the private state of an rr_context shared by context.c (API, network thread
 * loop, events), handshake.c (the stages before Connected), conn.c (socket/TLS I/O and the
 * record stream) and channel.c (data channels and the send scheduler).
 *
 * Threads: fields under "shared" are protected by ctx->lock and touched by application threads
 * and the network thread; fields under "network thread" are touched by the network thread
 * only. The network thread never holds ctx->lock while it calls application code.
 */
#ifndef RR_CONTEXT_H
#define RR_CONTEXT_H

#include "openrr/remoting.h"

#include "cert.h"
#include "http.h"
#include "record.h"
#include "request.h"
#include "u_buf.h"

#include <netdb.h>
#include <openssl/ssl.h>
#include <pthread.h>

#define RR_LOG_MODULE "remoting"
#define RR_MAX_ATTEMPTS 64                        /* concurrent incoming handshakes per listener */
#define RR_MAX_WORKERS 16                         /* validation worker threads not yet joined */
#define RR_EVENT_BYTES_HIGH (64u * 1024u * 1024u) /* stop reading while polled events hold more */
#define RR_DEFAULT_REALM "OpenRR Remoting"

enum rr_conn_stage {
    RR_STAGE_TCP_CONNECT,       /* client: non-blocking connect in progress */
    RR_STAGE_TLS,               /* TLS handshake (possibly paused on a request) */
    RR_STAGE_HTTP_WRITE,        /* client: request queued, flushing */
    RR_STAGE_HTTP_READ,         /* reading the peer's request (server) or response (client) */
    RR_STAGE_WAIT_TOKEN,        /* client: waiting for the authentication provider */
    RR_STAGE_WAIT_VALIDATION,   /* server: waiting for the authentication receiver */
    RR_STAGE_CLOSE_AFTER_FLUSH, /* server: an error response is flushing, then close */
    RR_STAGE_ESTABLISHED,
    RR_STAGE_CLOSED,
};

/* One queued outgoing message (a data-channel message or a control message). */
struct rr_msg {
    struct rr_msg *next;
    struct rr_data_channel *ch; /* accounting; NULL for control or after channel destroy */
    uint8_t channel;
    size_t size;
    size_t offset;  /* bytes already framed into records */
    uint8_t data[]; /* flexible */
};

struct rr_msg_queue {
    struct rr_msg *head;
    struct rr_msg *tail;
    size_t bytes;
};

/* Index of the send queues: control first, then by priority. */
enum {
    RR_QUEUE_CONTROL = 0,
    RR_QUEUE_HIGH = 1,
    RR_QUEUE_MEDIUM = 2,
    RR_QUEUE_LOW = 3,
    RR_QUEUE_COUNT = 4
};

struct rr_data_channel {
    struct rr_context *ctx;
    struct rr_data_channel *next_all;
    uint8_t id;
    enum rr_priority priority;
    enum rr_channel_status status;
    bool in_table;
    size_t queued_bytes;
    uint64_t next_packet_id;
};

struct rr_conn {
    struct rr_context *ctx;
    /* Held by the network thread while it does I/O on an established connection; an
     * application thread that finds it free may write one record directly (channel.c). */
    pthread_mutex_t io_lock;
    struct rr_conn *next;
    struct addrinfo *ai_list; /* client: addresses to try */
    struct addrinfo *ai_next;
    bool validation_started;
    bool validator_called;  /* client: the application's validator has the chain */
    bool close_after_flush; /* server: the queued response ends the attempt */
    int fd;
    SSL *ssl;
    bool secure;
    bool is_server;
    enum rr_conn_stage stage;
    uint64_t deadline_ms;
    uint64_t start_us;
    char peer[64];
    struct u_buf in;
    struct u_buf out;
    bool ssl_want_write; /* the last TLS call needs the socket writable */
    bool eof;
    /* handshake */
    struct rr_http_msg *msg;
    int requests;             /* server: requests seen on this connection */
    int token_attempts;       /* server: tokens judged; client: tokens sent */
    bool sent_cached_token;   /* client */
    bool last_token_rejected; /* server: previous request had an invalid token */
    char *token;              /* client: token being sent (wiped on free) */
    char realm[257];
    struct rr_request *pending; /* the request this connection waits on */
    struct rr_request *sysval;  /* client: system validation worker's request */
    bool validation_done;       /* client: final verdict known */
    bool validation_ok;
    struct rr_certificate_validation_result system_result;
    struct rr_certificate_validation_result final_result;
    bool has_system_result;
    struct rr_der_certificate *chain_certs; /* client: DER chain captured in verify callback */
    uint8_t *chain_blob;
    STACK_OF(X509) * chain_x509; /* client: the same chain as OpenSSL decoded it */
    size_t chain_count;
    /* failure reporting */
    enum rr_disconnect_reason fail_reason;
    char fail_detail[192];
    /* negotiated */
    enum rr_role peer_role;
    char codec[16];
    char connection_id[33];
    /* established */
    struct rr_record_reader reader;
    uint64_t last_rx_ms;
    uint64_t last_tx_ms;
    uint64_t last_ping_ms;
    bool disconnect_queued;                   /* our DISCONNECT is in the control queue */
    enum rr_disconnect_reason closing_reason; /* reported locally when the flush ends */
    uint64_t close_deadline_ms;
    bool closing;
};

enum rr_command {
    RR_CMD_NONE = 0,
    RR_CMD_CONNECT,
    RR_CMD_LISTEN,
};

struct rr_event_node {
    struct rr_event_node *next;
    struct rr_event ev;
};

struct rr_token_cache {
    char host[256];
    uint16_t port;
    char *token;
};

struct rr_context {
    struct rr_context_config cfg;
    char *cfg_ca_file;
    char *cfg_crl_file;
    char *cfg_codecs;
    pthread_t thread;
    struct rr_waker *waker;

    /* ---- shared (ctx->lock) ---- */
    pthread_mutex_t lock;
    pthread_cond_t event_cond;
    bool stop;
    enum rr_connection_state state;
    enum rr_disconnect_reason last_reason;
    enum rr_command command;
    bool disconnect_requested;
    char cmd_host[256];
    uint16_t cmd_port;
    uint16_t cmd_transport_port;
    bool cmd_secure;
    struct rr_authentication_provider *cmd_auth;
    struct rr_certificate_validator *cmd_validator;
    struct rr_certificate_provider *cmd_cert_provider;
    struct rr_authentication_receiver *cmd_auth_receiver;
    struct rr_event_node *ev_head;
    struct rr_event_node *ev_tail;
    size_t ev_bytes;
    bool reading_paused;
    bool connected;                        /* an established connection exists */
    struct rr_conn *fast_conn;             /* that connection, for direct sends */
    struct rr_data_channel *channels[128]; /* open or pending, by id */
    bool channel_seen[128];                /* opened at some point on this connection */
    uint8_t close_pending[128];            /* our CHANNEL_CLOSE still queued, by id */
    struct rr_data_channel *all_channels;  /* every channel object not yet destroyed */
    struct rr_msg_queue queues[RR_QUEUE_COUNT];
    size_t queued_total;
    bool have_info;
    struct rr_connection_info info;
    struct rr_connection_stats stats;

    /* ---- built-in channel receivers: set under builtin_lock, which the network thread holds
     * while it calls one, so that a detach waits for a running callback ---- */
    pthread_mutex_t builtin_lock;
    struct rr_builtin_receiver *builtin[RR_CHANNEL_BUILTIN_LAST - RR_CHANNEL_CONTROL];
    bool builtin_detached[RR_CHANNEL_BUILTIN_LAST - RR_CHANNEL_CONTROL]; /* had a receiver */

    /* ---- network thread ---- */
    bool secure; /* current operation is secure */
    bool listening;
    int listen_fd;
    int udp_fd;
    uint16_t listen_port;
    uint16_t transport_port;
    struct rr_conn *attempts; /* server: handshakes in progress */
    size_t attempt_count;
    struct rr_conn *active; /* the connection (client attempt, or established) */
    char host[256];         /* client: target */
    uint16_t port;
    struct rr_authentication_provider *auth;
    struct rr_certificate_validator *validator;
    struct rr_certificate_provider *cert_provider;
    struct rr_authentication_receiver *auth_receiver;
    char realm[257];
    X509_STORE *trust_store; /* client: built at the first secure connect, then shared */
    SSL_CTX *client_tls;
    SSL_CTX *server_tls;
    struct rr_request *cert_request;
    bool cert_ready;
    struct rr_cert_store cert;  /* kept across listens: reused when the provider repeats itself */
    unsigned char cert_key[32]; /* SHA-256 of the provider's store, subject and password */
    uint64_t cert_deadline_ms;
    struct rr_token_cache token_cache;
    uint64_t op_start_us; /* when the current connect/listen command was taken */
    pthread_t workers[RR_MAX_WORKERS];
    size_t worker_count;
};

/* ---- context.c ---- */
/* Queue (or deliver through the callback) an event; takes ownership of ev->data. */
void rr_ctx_emit(struct rr_context *ctx, struct rr_event *ev);
/* A data event: the callback sees @p ev->data directly; the poll queue gets a copy. */
void rr_ctx_emit_data(struct rr_context *ctx, struct rr_event *ev);
void rr_ctx_emit_simple(struct rr_context *ctx, enum rr_event_type type,
                        enum rr_disconnect_reason reason, const char *detail);
/* The established connection ended: close channels, report, go disconnected. */
void rr_ctx_connection_ended(struct rr_context *ctx, enum rr_disconnect_reason reason,
                             const char *detail);
/* A client attempt or the listening ended before/without a connection. */
void rr_ctx_operation_failed(struct rr_context *ctx, enum rr_disconnect_reason reason,
                             const char *detail);
/* Remember a validation worker thread so that destroy can join it. */
void rr_ctx_add_worker(struct rr_context *ctx, pthread_t t);

/* ---- tls.c ---- */
/* The process-wide client / server SSL_CTX, with a reference for the caller (SSL_CTX_free). */
SSL_CTX *rr_tls_client_ctx_create(void);
SSL_CTX *rr_tls_server_ctx_create(void);
/* Ex-data index holding the struct rr_conn of an SSL object. */
int rr_tls_conn_index(void);
/* One line for the last OpenSSL error (or @p fallback). Clears the error queue. */
void rr_tls_error_string(char *out, size_t size, const char *fallback);

/* ---- conn.c ---- */
struct rr_conn *rr_conn_create(struct rr_context *ctx, int fd, bool is_server, bool secure);
void rr_conn_destroy(struct rr_conn **conn_ptr);
/* Read what is available into conn->in, keeping it within @p limit bytes. Returns bytes read (>0),
 * 0 when it would block, -1 on end of stream or error (conn->eof set). */
ssize_t rr_conn_read(struct rr_conn *conn, size_t limit);
/* Write conn->out and push it to the socket. Returns false on a fatal error. */
bool rr_conn_flush(struct rr_conn *conn);
/* Write conn->out into TLS without pushing the TLS write buffer (write_output batches). */
bool rr_conn_write(struct rr_conn *conn);
/* Bytes not yet on the socket (conn->out, TLS write buffer, a retry pending). */
bool rr_conn_has_unsent(struct rr_conn *conn);
/* Attach @p fd to the connection's TLS object (read BIO + buffered write BIO). */
bool rr_conn_set_socket(struct rr_conn *conn, int fd);
/* Poll events this connection wants. */
short rr_conn_poll_events(struct rr_conn *conn);
void rr_conn_fail(struct rr_conn *conn, enum rr_disconnect_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Established stage: process input, write queued records, keepalive. Returns false when
 * the connection ended (already reported). */
bool rr_conn_established_step(struct rr_conn *conn, short revents);
/* Established: begin an orderly close reporting @p local_reason locally. */
void rr_conn_begin_close(struct rr_conn *conn, enum rr_disconnect_reason local_reason);
uint64_t rr_conn_next_timer(struct rr_conn *conn);

/* ---- handshake.c ---- */
/* Drive a connection before ESTABLISHED. Returns false when the attempt failed
 * (conn->fail_reason set) and must be dropped. */
bool rr_handshake_step(struct rr_conn *conn, short revents);
/* Client: start connecting to ctx->host:ctx->port. NULL with the reason reported. */
struct rr_conn *rr_handshake_client_start(struct rr_context *ctx);
/* OpenSSL callbacks (installed by tls.c): pause the handshake for the certificate validator
 * (client) and for the certificate provider (server). */
int rr_handshake_verify_cb(X509_STORE_CTX *xs, void *arg);
int rr_handshake_client_hello_cb(SSL *ssl, int *al, void *arg);

/* ---- channel.c ---- */
/* Append a control message to the control queue (network or application thread, lock held). */
bool rr_channel_queue_control_locked(struct rr_context *ctx, const struct rr_ctrl_msg *m);
/* Take the next record to send into @p out (header + payload); false when nothing is queued.
 * Lock held. */
bool rr_channel_next_record_locked(struct rr_context *ctx, struct u_buf *out);
/* A received data-channel message, control message: handled on the network thread. Returns
 * false on a protocol violation (detail in @p why). */
bool rr_channel_on_data(struct rr_context *ctx, uint8_t channel, const uint8_t *data, size_t size,
                        char *why, size_t why_size);
bool rr_channel_on_control(struct rr_context *ctx, struct rr_conn *conn,
                           const struct rr_ctrl_msg *m, char *why, size_t why_size);
/* Built-in channels: deliver a message (false if no receiver: a protocol error), and tell
 * every receiver that the connection began / ended. Network thread, no lock held. */
bool rr_builtin_on_message(struct rr_context *ctx, uint8_t channel, const uint8_t *data,
                           size_t size);
void rr_builtin_on_connected(struct rr_context *ctx, const struct rr_connection_info *info);
void rr_builtin_on_disconnected(struct rr_context *ctx);
/* Send or queue one message on @p channel (a data channel @p ch, or a built-in channel with
 * @p ch NULL). ctx->lock held; the caller checked the connection and the size. */
enum rr_result rr_channel_send_locked(struct rr_context *ctx, struct rr_data_channel *ch,
                                      uint8_t channel, enum rr_priority priority, const void *data,
                                      size_t size, bool guaranteed_delivery);
/* Close every channel (connection ended) and drop queued data. */
void rr_channel_close_all(struct rr_context *ctx);
/* Drop all queued messages (lock held). */
void rr_channel_clear_queues_locked(struct rr_context *ctx);

#endif
