/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Handshake message parser. Strict on purpose: the handshake is ours (DESIGN §4.1), so only
 * CRLF line ends, no obsolete line folding, token-character header names and no control
 * characters in values are accepted; anything else is malformed and ends the attempt.
 */
#include "http.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
    return s;
}

static bool parse_request_line(char *line, struct rr_http_msg *out)
{
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL) {
        return false;
    }
    *sp1 = '\0';
    char *sp2 = strchr(sp1 + 1, ' ');
    if (sp2 == NULL) {
        return false;
    }
    *sp2 = '\0';
    out->method = line;
    out->target = sp1 + 1;
    for (const char *p = out->method; *p; p++) {
        if (!is_tchar((unsigned char)*p)) {
            return false;
        }
    }
    return out->method[0] != '\0' && out->target[0] != '\0' && strcmp(sp2 + 1, "HTTP/1.1") == 0;
}

static bool parse_status_line(char *line, struct rr_http_msg *out)
{
    if (strncmp(line, "HTTP/1.1 ", 9) != 0) {
        return false;
    }
    const char *d = line + 9;
    if (!isdigit((unsigned char)d[0]) || !isdigit((unsigned char)d[1]) ||
        !isdigit((unsigned char)d[2]) || (d[3] != ' ' && d[3] != '\0')) {
        return false;
    }
    out->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    out->reason_phrase = d[3] == ' ' ? d + 4 : d + 3;
    return out->status >= 100;
}

static bool parse_header_line(char *line, struct rr_http_msg *out)
{
    char *colon = strchr(line, ':');
    if (colon == NULL || colon == line) {
        return false;
    }
    *colon = '\0';
    for (const char *p = line; *p; p++) {
        if (!is_tchar((unsigned char)*p)) {
            return false;
        }
    }
    char *value = trim(colon + 1);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
            return false;
        }
    }
    if (out->header_count >= RR_HTTP_MAX_HEADERS) {
        return false;
    }
    out->headers[out->header_count].name = line;
    out->headers[out->header_count].value = value;
    out->header_count++;
    return true;
}

enum rr_http_status rr_http_parse(const uint8_t *data, size_t len, bool response,
                                  struct rr_http_msg *out)
{
    size_t scan = len < RR_MAX_HANDSHAKE_SIZE ? len : RR_MAX_HANDSHAKE_SIZE;
    size_t head_len = 0;
    for (size_t i = 3; i < scan; i++) {
        if (data[i] == '\n' && data[i - 1] == '\r' && data[i - 2] == '\n' && data[i - 3] == '\r') {
            head_len = i + 1;
            break;
        }
    }
    if (head_len == 0) {
        /* Reject early what cannot become a valid head, so garbage (a TLS ClientHello sent
         * to a plain server) or bare line ends fail at once instead of at the deadline. */
        bool start_line = true;
        for (size_t i = 0; i < scan; i++) {
            unsigned char c = data[i];
            if ((c < 0x20 && c != '\r' && c != '\n' && c != '\t') || c == 0x7f ||
                (start_line && c >= 0x80)) {
                return RR_HTTP_MALFORMED;
            }
            if (c == '\n') {
                start_line = false;
            }
            if (c == '\n' && (i == 0 || data[i - 1] != '\r')) {
                return RR_HTTP_MALFORMED;
            }
            if (c == '\r' && i + 1 < scan && data[i + 1] != '\n') {
                return RR_HTTP_MALFORMED;
            }
        }
        return len >= RR_MAX_HANDSHAKE_SIZE ? RR_HTTP_TOO_LARGE : RR_HTTP_INCOMPLETE;
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->raw, data, head_len);
    out->raw[head_len] = '\0';
    out->length = head_len;

    /* A NUL inside the head would silently truncate a line below. */
    if (memchr(out->raw, '\0', head_len) != NULL) {
        return RR_HTTP_MALFORMED;
    }
    char *line = out->raw;
    bool first = true;
    for (;;) {
        char *eol = strstr(line, "\r\n");
        if (eol == NULL) {
            return RR_HTTP_MALFORMED;
        }
        *eol = '\0';
        if (memchr(line, '\n', (size_t)(eol - line)) != NULL ||
            memchr(line, '\r', (size_t)(eol - line)) != NULL) {
            return RR_HTTP_MALFORMED; /* bare CR or LF */
        }
        if (first) {
            /* The start line holds visible ASCII and single spaces only. */
            for (const unsigned char *q = (const unsigned char *)line; *q; q++) {
                if (*q < 0x20 || *q >= 0x7f) {
                    return RR_HTTP_MALFORMED;
                }
            }
            bool ok = response ? parse_status_line(line, out) : parse_request_line(line, out);
            if (!ok) {
                return RR_HTTP_MALFORMED;
            }
            first = false;
        } else if (*line == '\0') {
            return RR_HTTP_COMPLETE;
        } else if (*line == ' ' || *line == '\t') {
            return RR_HTTP_MALFORMED; /* obsolete folding */
        } else if (!parse_header_line(line, out)) {
            return out->header_count >= RR_HTTP_MAX_HEADERS ? RR_HTTP_TOO_LARGE : RR_HTTP_MALFORMED;
        }
        line = eol + 2;
    }
}

const char *rr_http_header(const struct rr_http_msg *msg, const char *name)
{
    for (size_t i = 0; i < msg->header_count; i++) {
        if (strcasecmp(msg->headers[i].name, name) == 0) {
            return msg->headers[i].value;
        }
    }
    return NULL;
}

bool rr_http_header_has_token(const struct rr_http_msg *msg, const char *name, const char *token)
{
    const char *v = rr_http_header(msg, name);
    size_t tl = strlen(token);
    while (v != NULL && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',') {
            v++;
        }
        const char *end = v;
        while (*end && *end != ',') {
            end++;
        }
        const char *e = end;
        while (e > v && (e[-1] == ' ' || e[-1] == '\t')) {
            e--;
        }
        if ((size_t)(e - v) == tl && strncasecmp(v, token, tl) == 0) {
            return true;
        }
        v = end;
    }
    return false;
}

const char *rr_http_bearer_token(const struct rr_http_msg *msg)
{
    const char *v = rr_http_header(msg, "Authorization");
    if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0) {
        return NULL;
    }
    v += 7;
    while (*v == ' ') {
        v++;
    }
    return *v ? v : NULL;
}

bool rr_http_bearer_realm(const struct rr_http_msg *msg, char *out, size_t out_size,
                          bool *out_invalid_token)
{
    const char *v = rr_http_header(msg, "WWW-Authenticate");
    if (out_invalid_token != NULL) {
        *out_invalid_token = false;
    }
    if (v == NULL || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\0') ||
        out_size == 0) {
        return false;
    }
    bool have_realm = false;
    const char *p = v + 6;
    /* auth-params: name=value or name="quoted", comma separated. */
    while (*p) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        const char *name = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ') {
            p++;
        }
        size_t name_len = (size_t)(p - name);
        if (*p != '=') {
            if (*p == '\0') {
                break;
            }
            continue;
        }
        p++;
        char val[300];
        size_t n = 0;
        bool overflow = false;
        if (*p == '"') {
            p++;
            while (*p && *p != '"') {
                if (*p == '\\' && p[1]) {
                    p++;
                }
                if (n + 1 < sizeof(val)) {
                    val[n++] = *p;
                } else {
                    overflow = true;
                }
                p++;
            }
            if (*p != '"') {
                return false;
            }
            p++;
        } else {
            while (*p && *p != ',' && *p != ' ') {
                if (n + 1 < sizeof(val)) {
                    val[n++] = *p;
                } else {
                    overflow = true;
                }
                p++;
            }
        }
        val[n] = '\0';
        if (name_len == 5 && strncasecmp(name, "realm", 5) == 0) {
            if (overflow || n >= out_size) {
                return false;
            }
            memcpy(out, val, n + 1);
            have_realm = true;
        } else if (name_len == 5 && strncasecmp(name, "error", 5) == 0 &&
                   strcmp(val, "invalid_token") == 0 && out_invalid_token != NULL) {
            *out_invalid_token = true;
        }
    }
    return have_realm;
}

bool rr_http_token_is_valid(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p < 0x21 || *p > 0x7e || n >= RR_MAX_TOKEN_SIZE) {
            return false;
        }
    }
    return true;
}

bool rr_http_realm_is_valid(const char *s)
{
    if (s == NULL) {
        return false;
    }
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++) {
        if (*p < 0x20 || *p > 0x7e || n >= 256) {
            return false;
        }
    }
    return true;
}
