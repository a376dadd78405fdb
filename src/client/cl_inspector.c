/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_inspector — rr_session_connect_inspector: a local HTML page that opens the session host's
 * inspector (http://hostname:arrInspectorPort/). The inspector page takes its bearer token
 * from `?token=` once, keeps it in sessionStorage and drops it from the address bar
 * (web/inspector/inspector.js); the host accepts the account's access tokens. So the file
 * holds an access token: it is created 0600 with O_EXCL in the user's runtime directory and is
 * valid as long as that token (the token's exp is written in it).
 *
 * Threads: the job runs on the frontend's worker.
 */
#include "cl_internal.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct inspector_job {
    struct cl_job base;
    rr_session_path_fn done;
    char path[4096];
};

/* The directory for the page: $XDG_RUNTIME_DIR (private to the user), else $TMPDIR, else
 * /tmp. */
static const char *page_dir(void)
{
    const char *vars[] = {"XDG_RUNTIME_DIR", "TMPDIR"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *d = getenv(vars[i]);
        struct stat st;
        if (d != NULL && d[0] == '/' && stat(d, &st) == 0 && S_ISDIR(st.st_mode) &&
            access(d, W_OK | X_OK) == 0) {
            return d;
        }
    }
    return "/tmp";
}

/* Append @p s HTML-escaped. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A host name or address we put into a URL: letters, digits, '.', '-', ':' (IPv6). */
static bool host_ok(const char *h)
{
    if (h[0] == '\0') {
        return false;
    }
    for (const char *p = h; *p != '\0'; p++) {
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == ':';
        if (!ok) {
            return false;
        }
    }
    return true;
}

static void write_page(FILE *f, const char *session_id, const char *url, const char *until)
{
    fputs("<!DOCTYPE html>\n<!-- SPDX-License-Identifier: Apache-2.0 -->\n"
          "<!-- Written by libopenrr_client (rr_session_connect_inspector). It holds an access\n"
          "     token of the account: do not share it. -->\n"
          "<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"referrer\" content=\"no-referrer\">\n<title>OpenRR inspector: ",
          f);
    put_escaped(f, session_id);
    fputs("</title>\n<meta http-equiv=\"refresh\" content=\"0; url=", f);
    put_escaped(f, url);
    fputs("\">\n</head><body>\n<p>Opening the inspector of session <code>", f);
    put_escaped(f, session_id);
    fputs("</code>&hellip; <a href=\"", f);
    put_escaped(f, url);
    fputs("\" rel=\"noreferrer\">Open it</a> if nothing happens.</p>\n<p>This page is valid "
          "until ",
          f);
    put_escaped(f, until);
    fputs(".</p>\n</body></html>\n", f);
}

static void inspector_run(struct cl_job *job)
{
    struct inspector_job *j = (struct inspector_job *)job;
    struct rr_session *s = job->session;
    struct rr_session_properties p;
    if (!rr_session_cached_properties(s, &p)) {
        cl_job_fail(job, RR_CLIENT_NOT_INITIALIZED,
                    "session %s: no properties cached yet (get its properties first)", s->id);
        return;
    }
    if (p.status == RR_SESSION_STARTING) {
        cl_job_fail(job, RR_CLIENT_IN_PROGRESS, "session %s is still Starting", s->id);
        return;
    }
    if (p.status != RR_SESSION_READY) {
        cl_job_fail(job, RR_CLIENT_SESSION_NOT_FOUND, "session %s is %s", s->id,
                    rr_session_status_str(p.status));
        return;
    }
    if (p.inspector_port == 0 || !host_ok(p.hostname)) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE,
                    "session %s: the service gave no usable hostname or inspector port", s->id);
        return;
    }
    char token[RR_MAX_TOKEN_SIZE + 1];
    if (cl_access_token(job, token, sizeof(token)) != RR_CLIENT_SUCCESS) {
        return;
    }
    int64_t exp = 0;
    char until[64] = "the access token expires";
    if (cl_jwt_exp(token, &exp)) {
        time_t t = (time_t)exp;
        struct tm tm;
        if (gmtime_r(&t, &tm) != NULL) {
            strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S UTC", &tm);
        }
    }
    bool v6 = strchr(p.hostname, ':') != NULL;
    size_t url_size = strlen(token) + strlen(p.hostname) + 64;
    char *url = malloc(url_size);
    if (url == NULL) {
        OPENSSL_cleanse(token, sizeof(token));
        cl_job_fail(job, RR_CLIENT_OUT_OF_MEMORY, "out of memory");
        return;
    }
    snprintf(url, url_size, "http://%s%s%s:%u/?token=%s", v6 ? "[" : "", p.hostname, v6 ? "]" : "",
             p.inspector_port, token);
    OPENSSL_cleanse(token, sizeof(token));

    /* A name that says what it is; mkstemps makes it unique and creates it 0600, O_EXCL. */
    if (!cl_fmt(j->path, sizeof(j->path), "%s/openrr-inspector-%.64s-XXXXXX.html", page_dir(),
                s->id)) {
        cl_free_secret(url);
        cl_job_fail(job, RR_CLIENT_IO, "the inspector page's path is too long");
        return;
    }
    /* mkstemps creates it 0600 whatever the umask (which a library must not change). */
    int fd = mkstemps(j->path, 5);
    if (fd < 0) {
        int e = errno;
        cl_free_secret(url);
        cl_job_fail(job, RR_CLIENT_IO, "cannot create the inspector page %s: %s", j->path,
                    strerror(e));
        return;
    }
    (void)fchmod(fd, 0600);
    FILE *f = fdopen(fd, "w");
    if (f == NULL) {
        int e = errno;
        close(fd);
        unlink(j->path);
        cl_free_secret(url);
        cl_job_fail(job, RR_CLIENT_IO, "cannot write the inspector page %s: %s", j->path,
                    strerror(e));
        return;
    }
    /* Our own stdio buffer, so that the token's copy in it is wiped after the close. */
    char buf[4096];
    setvbuf(f, buf, _IOFBF, sizeof(buf));
    write_page(f, s->id, url, until);
    cl_free_secret(url);
    bool ok = fflush(f) == 0 && !ferror(f);
    int e = errno;
    if (fclose(f) != 0) {
        ok = false;
        e = errno;
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    if (!ok) {
        unlink(j->path);
        cl_job_fail(job, RR_CLIENT_IO, "cannot write the inspector page %s: %s", j->path,
                    strerror(e));
    }
}

static void inspector_deliver(struct cl_job *job)
{
    struct inspector_job *j = (struct inspector_job *)job;
    j->done(job->user, job->result, job->result == RR_CLIENT_SUCCESS ? j->path : NULL);
}

static const struct cl_job_ops inspector_ops = {inspector_run, inspector_deliver, NULL};

enum rr_client_result rr_session_connect_inspector(struct rr_session *session,
                                                   rr_session_path_fn done, void *user)
{
    enum rr_client_result r =
        cl_session_enter(session, done != NULL, "rr_session_connect_inspector");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    struct inspector_job *j = cl_job_new(sizeof(*j), session->fe, &inspector_ops, user);
    if (j != NULL) {
        j->done = done;
    }
    return cl_session_start(session, CL_BUSY_INSPECTOR, j ? &j->base : NULL,
                            "rr_session_connect_inspector");
}
