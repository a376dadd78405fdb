/* SPDX-License-Identifier: Apache-2.0 */
/* Socket helpers; network thread. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Unsent bytes the kernel may hold for us: small enough that a high-priority record is not
 * stuck behind a long queue of bulk data inside the kernel (DESIGN §4.2), large enough to keep
 * the pipe full. */
#define RR_NET_NOTSENT_LOWAT (128 * 1024)

void rr_net_strip_brackets(const char *host, char *out, size_t size)
{
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
        snprintf(out, size, "%.*s", (int)(n - 2), host + 1);
    } else {
        snprintf(out, size, "%s", host);
    }
}

bool rr_net_is_ip_literal(const char *host)
{
    char h[256];
    unsigned char buf[16];
    if (host == NULL) {
        return false;
    }
    rr_net_strip_brackets(host, h, sizeof(h));
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int rr_net_resolve(const char *host, uint16_t port, bool passive, struct addrinfo **out)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    char h[256];
    const char *node = NULL;
    if (host != NULL && host[0] != '\0') {
        rr_net_strip_brackets(host, h, sizeof(h));
        node = h;
        if (rr_net_is_ip_literal(h)) {
            hints.ai_flags |= AI_NUMERICHOST;
            hints.ai_flags &= ~AI_ADDRCONFIG; /* ::1 must work without a global IPv6 address */
        }
    }
    return getaddrinfo(node, portstr, &hints, out);
}

int rr_net_connect_start(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

enum rr_disconnect_reason rr_net_connect_reason(int err)
{
    switch (err) {
    case ECONNREFUSED:
        return RR_REASON_HANDSHAKE_CONNECTION_REFUSED;
    case ENETUNREACH:
    case ENETDOWN:
        return RR_REASON_HANDSHAKE_NETWORK_UNREACHABLE;
    case EACCES:
    case EPERM:
        return RR_REASON_HANDSHAKE_PERMISSION_DENIED;
    case ECONNRESET:
    case EPIPE:
        return RR_REASON_HANDSHAKE_CONNECTION_FAILED;
    default:
        return RR_REASON_HANDSHAKE_UNREACHABLE; /* EHOSTUNREACH, ETIMEDOUT, … */
    }
}

static int bind_one(const char *host, uint16_t port, int socktype, uint16_t *out_port, int *out_err)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_PASSIVE;
    char portstr[8], h[256];
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    const char *node = NULL;
    if (host != NULL && host[0] != '\0') {
        rr_net_strip_brackets(host, h, sizeof(h));
        node = h;
        hints.ai_family = AF_UNSPEC;
    } else {
        hints.ai_family = AF_INET6; /* dual-stack [::] */
    }
    int gai = getaddrinfo(node, portstr, &hints, &res);
    if (gai != 0) {
        *out_err = EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    *out_err = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            *out_err = errno;
            continue;
        }
        int one = 1, zero = 0;
        if (socktype == SOCK_STREAM) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        }
        if (ai->ai_family == AF_INET6 && node == NULL) {
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
            (socktype != SOCK_STREAM || listen(fd, 64) == 0)) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            getsockname(fd, (struct sockaddr *)&ss, &sl);
            *out_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                       : ((struct sockaddr_in *)&ss)->sin_port);
            break;
        }
        *out_err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static enum rr_disconnect_reason bind_reason(int err, bool transport)
{
    if (err == EACCES || err == EPERM) {
        return RR_REASON_HANDSHAKE_PERMISSION_DENIED;
    }
    if (err == EADDRNOTAVAIL) {
        return transport ? RR_REASON_TRANSPORT_UNREACHABLE : RR_REASON_HANDSHAKE_UNREACHABLE;
    }
    return transport ? RR_REASON_TRANSPORT_PORT_BUSY : RR_REASON_HANDSHAKE_PORT_BUSY;
}

int rr_net_listen_tcp(const char *host, uint16_t port, uint16_t *out_port,
                      enum rr_disconnect_reason *out_reason, char *err, size_t err_size)
{
    int e = 0;
    int fd = bind_one(host, port, SOCK_STREAM, out_port, &e);
    if (fd < 0) {
        *out_reason = bind_reason(e, false);
        snprintf(err, err_size, "cannot listen on %s port %u: %s",
                 host && *host ? host : "all addresses", (unsigned)port, strerror(e));
    }
    return fd;
}

int rr_net_bind_udp(const char *host, uint16_t port, uint16_t *out_port,
                    enum rr_disconnect_reason *out_reason, char *err, size_t err_size)
{
    int e = 0;
    int fd = bind_one(host, port, SOCK_DGRAM, out_port, &e);
    if (fd < 0) {
        *out_reason = bind_reason(e, true);
        snprintf(err, err_size, "cannot reserve transport port %u: %s", (unsigned)port,
                 strerror(e));
    }
    return fd;
}

void rr_net_block_sigpipe(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

void rr_net_tune(int fd)
{
    int one = 1;
    int lowat = RR_NET_NOTSENT_LOWAT;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
}

void rr_net_peer_name(int fd, char *out, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char a[INET6_ADDRSTRLEN] = "?";
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(out, size, "?");
        return;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
        snprintf(out, size, "[%s]:%u", a, (unsigned)ntohs(s6->sin6_port));
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
        snprintf(out, size, "%s:%u", a, (unsigned)ntohs(s4->sin_port));
    }
}
