/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Revocation sources for system validation: CRLs from distribution points and OCSP queries.
 * Worker thread (blocking, each fetch bounded by a timeout and a size limit). Only http URLs
 * are followed: revocation data is signed, and https would need revocation checking itself.
 */
#include "validation.h"

#include "net.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/http.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <strings.h>

#define RR_MAX_REVOCATION_RESPONSE (4u * 1024u * 1024u)

/* Connect to an http URL's host ourselves: OpenSSL's own connect retries a refused connection
 * until the timeout, which would make every dead revocation endpoint cost the full timeout. */
static BIO *open_http(const char *url, int timeout_s)
{
    char *host = NULL, *port = NULL;
    int use_ssl = 0;
    BIO *bio = NULL;
    struct addrinfo *res = NULL;
    if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, NULL, NULL, NULL) ||
        use_ssl) {
        goto out;
    }
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &res) != 0) {
        goto out;
    }
    for (struct addrinfo *ai = res; ai != NULL && bio == NULL; ai = ai->ai_next) {
        int fd = rr_net_connect_start(ai);
        if (fd < 0) {
            continue;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int err = 0;
        socklen_t len = sizeof(err);
        if (poll(&pfd, 1, timeout_s * 1000) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
            /* OpenSSL's HTTP client handles a non-blocking socket with its own timeout. */
            bio = BIO_new_socket(fd, BIO_CLOSE);
        }
        if (bio == NULL) {
            close(fd);
        }
    }
out:
    if (res != NULL) {
        freeaddrinfo(res);
    }
    OPENSSL_free(host);
    OPENSSL_free(port);
    return bio;
}

int rr_revocation_fetch_crls(X509 *cert, STACK_OF(X509_CRL) * crls, int timeout_s)
{
    int added = 0;
    STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
    for (int i = 0; dps != NULL && i < sk_DIST_POINT_num(dps) && i < 4; i++) {
        DIST_POINT *dp = sk_DIST_POINT_value(dps, i);
        if (dp->distpoint == NULL || dp->distpoint->type != 0) {
            continue;
        }
        GENERAL_NAMES *names = dp->distpoint->name.fullname;
        for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
            GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
            if (gn->type != GEN_URI) {
                continue;
            }
            const char *url = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
            if (strncasecmp(url, "http://", 7) != 0) {
                continue;
            }
            BIO *bio = open_http(url, timeout_s);
            X509_CRL *crl = bio != NULL ? X509_CRL_load_http(url, bio, bio, timeout_s) : NULL;
            BIO_free_all(bio);
            if (crl != NULL) {
                if (sk_X509_CRL_push(crls, crl) > 0) {
                    added++;
                } else {
                    X509_CRL_free(crl);
                }
                break;
            }
        }
    }
    sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
    ERR_clear_error();
    return added;
}

static OCSP_RESPONSE *ocsp_query(const char *url, OCSP_REQUEST *req, int timeout_s)
{
    char *host = NULL, *port = NULL, *path = NULL;
    int use_ssl = 0;
    OCSP_RESPONSE *resp = NULL;
    if (!OSSL_HTTP_parse_url(url, &use_ssl, NULL, &host, &port, NULL, &path, NULL, NULL) ||
        use_ssl) {
        goto out;
    }
    BIO *req_bio = ASN1_item_i2d_mem_bio(ASN1_ITEM_rptr(OCSP_REQUEST), (ASN1_VALUE *)req);
    if (req_bio == NULL) {
        goto out;
    }
    BIO *conn = open_http(url, timeout_s);
    if (conn == NULL) {
        BIO_free(req_bio);
        goto out;
    }
    BIO *rsp =
        OSSL_HTTP_transfer(NULL, host, port, path, 0, NULL, NULL, conn, conn, NULL, NULL, 0, NULL,
                           "application/ocsp-request", req_bio, "application/ocsp-response", 1,
                           RR_MAX_REVOCATION_RESPONSE, timeout_s, 0);
    BIO_free(req_bio);
    if (rsp != NULL) {
        resp = (OCSP_RESPONSE *)ASN1_item_d2i_bio(ASN1_ITEM_rptr(OCSP_RESPONSE), rsp, NULL);
        BIO_free(rsp);
    }
    BIO_free_all(conn);
out:
    OPENSSL_free(host);
    OPENSSL_free(port);
    OPENSSL_free(path);
    return resp;
}

enum rr_revocation_status rr_revocation_ocsp(X509 *cert, X509 *issuer, X509_STORE *store,
                                             STACK_OF(X509) * untrusted, int timeout_s, char *why,
                                             size_t why_size)
{
    enum rr_revocation_status st = RR_REVOCATION_UNKNOWN;
    STACK_OF(OPENSSL_STRING) *urls = X509_get1_ocsp(cert);
    OCSP_REQUEST *req = NULL;
    OCSP_RESPONSE *resp = NULL;
    OCSP_BASICRESP *basic = NULL;
    OCSP_CERTID *id = NULL;
    if (urls == NULL || sk_OPENSSL_STRING_num(urls) == 0) {
        snprintf(why, why_size, "no OCSP responder");
        goto out;
    }
    id = OCSP_cert_to_id(NULL, cert, issuer);
    req = OCSP_REQUEST_new();
    if (id == NULL || req == NULL || OCSP_request_add0_id(req, OCSP_CERTID_dup(id)) == NULL) {
        goto out;
    }
    OCSP_request_add1_nonce(req, NULL, -1);
    const char *url = sk_OPENSSL_STRING_value(urls, 0);
    resp = ocsp_query(url, req, timeout_s);
    if (resp == NULL) {
        snprintf(why, why_size, "OCSP responder %.100s did not answer", url);
        goto out;
    }
    if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL ||
        (basic = OCSP_response_get1_basic(resp)) == NULL) {
        snprintf(why, why_size, "OCSP responder %.100s refused the query", url);
        goto out;
    }
    if (OCSP_check_nonce(req, basic) == 0 || OCSP_basic_verify(basic, untrusted, store, 0) <= 0) {
        snprintf(why, why_size, "OCSP response from %.100s failed verification", url);
        goto out;
    }
    int status = -1, reason = 0;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (!OCSP_resp_find_status(basic, id, &status, &reason, &rev, &thisupd, &nextupd) ||
        !OCSP_check_validity(thisupd, nextupd, 300, -1)) {
        snprintf(why, why_size, "OCSP response from %.100s is stale or lacks the certificate", url);
        goto out;
    }
    if (status == V_OCSP_CERTSTATUS_GOOD) {
        st = RR_REVOCATION_GOOD;
    } else if (status == V_OCSP_CERTSTATUS_REVOKED) {
        st = RR_REVOCATION_REVOKED;
        snprintf(why, why_size, "revoked according to OCSP responder %.100s", url);
    } else {
        snprintf(why, why_size, "OCSP responder %.100s does not know the certificate", url);
    }
out:
    ERR_clear_error();
    OCSP_CERTID_free(id);
    OCSP_REQUEST_free(req);
    OCSP_RESPONSE_free(resp);
    OCSP_BASICRESP_free(basic);
    X509_email_free(urls);
    return st;
}
