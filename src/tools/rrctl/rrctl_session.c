/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rrctl_session — `rrctl session create|list|show|renew|stop` and `rrctl inspect`: thin
 * commands over the SDK's session calls. `create --wait` polls every 2 seconds (the old
 * SDK's pace for Standard sessions) with a spinner until the session is Ready or ended.
 */
#include "rrctl.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define POLL_MS 2000

static const char session_help[] =
    "Usage: rrctl session create [--size standard|premium] [--lease MIN] [--id ID] [--wait]\n"
    "                           [--timeout SEC]\n"
    "       rrctl session list\n"
    "       rrctl session show ID\n"
    "       rrctl session renew ID MIN\n"
    "       rrctl session stop ID\n"
    "\n"
    "Rendering sessions of the account. A session starts (Starting), becomes Ready once its\n"
    "host listens, and ends when stopped (Stopped) or when its lease runs out (Expired).\n"
    "\n"
    "  create   start one: --size (default standard), --lease in minutes counted from Ready\n"
    "           (1-1440, default 60), --id (default a random one); --wait polls every 2 s\n"
    "           until Ready (--timeout, default 300 s) and fails when it ends instead\n"
    "  list     the Starting and Ready sessions\n"
    "  show     one session's properties (also ended ones, kept 30 days)\n"
    "  renew    set the lease to MIN minutes in total (must be more than now)\n"
    "  stop     stop it (its host ends); releasing nothing else stops a session\n"
    "\n"
    "Examples:\n"
    "  rrctl session create --lease 120 --wait\n"
    "  id=$(rrctl --json session create --wait | jq -r .id)\n"
    "  rrctl session renew \"$id\" 240\n"
    "  rrctl session stop \"$id\"\n";

static const char inspect_help[] =
    "Usage: rrctl inspect ID\n"
    "\n"
    "Write an HTML page (mode 0600, in $XDG_RUNTIME_DIR or the temporary directory) that\n"
    "opens the inspector of Ready session ID (live frame times, log, scene, timing capture),\n"
    "and print its path. The page carries an access token of the account: it works as long as\n"
    "the token does (24 hours by default); do not share it.\n"
    "\n"
    "Example:\n"
    "  xdg-open \"$(rrctl inspect \"$id\")\"\n";

/* A frontend for the stored login; an exit status on failure. */
static int open_frontend(struct rrctl *rc, struct rrctl_config *cfg, struct rr_frontend **fe)
{
    int status = rrctl_config_load(rc, cfg);
    if (status != RRCTL_OK) {
        return status;
    }
    status = rrctl_frontend(rc, cfg, fe);
    if (status != RRCTL_OK) {
        rrctl_config_clear(cfg);
    }
    return status;
}

static void show(const struct rrctl *rc, const struct rr_session_properties *p)
{
    if (rc->json) {
        rrctl_print_session_json(p);
    } else {
        rrctl_print_session(p);
    }
}

/* Poll until Ready or ended; the last properties in @p p. */
static int wait_ready(struct rrctl *rc, struct rr_session *s, struct rr_session_properties *p,
                      uint32_t timeout_s)
{
    struct rrctl_progress prog;
    rrctl_progress_init(&prog);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct rrctl_result res;
        enum rr_client_result r = rrctl_get_properties(s, p, &res);
        if (r != RR_CLIENT_SUCCESS) {
            rrctl_progress_done(&prog);
            return rrctl_fail_sdk(rc, r, res.message, "session");
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long elapsed = (long)(now.tv_sec - t0.tv_sec);
        char text[300];
        snprintf(text, sizeof(text), "session %.64s: %s", p->id, rr_session_status_str(p->status));
        if (p->status != RR_SESSION_STARTING) {
            rrctl_progress_show(&prog, -1, text);
            rrctl_progress_done(&prog);
            if (p->status == RR_SESSION_READY) {
                return RRCTL_OK;
            }
            show(rc, p);
            fprintf(stderr, "rrctl: session %s ended while starting: %s%s%s\n", p->id,
                    rr_session_status_str(p->status), p->error_message[0] ? ": " : "",
                    p->error_message);
            return RRCTL_FAILED;
        }
        if (prog.tty) {
            size_t n = strlen(text);
            snprintf(text + n, sizeof(text) - n, " (%ld s)", elapsed);
        }
        rrctl_progress_show(&prog, -1, text);
        if (elapsed >= (long)timeout_s) {
            rrctl_progress_done(&prog);
            return rrctl_fail(rc, RRCTL_FAILED,
                              "session %s is still Starting after %u s (it keeps starting; "
                              "'rrctl session stop %s' ends it)",
                              p->id, timeout_s, p->id);
        }
        /* A spinner turns faster than the polls come. */
        for (int i = 0; i < POLL_MS / 250; i++) {
            if (!rrctl_sleep_ms(250)) {
                rrctl_progress_done(&prog);
                return rrctl_fail(rc, RRCTL_FAILED,
                                  "interrupted; session %s keeps starting ('rrctl session stop "
                                  "%s' ends it)",
                                  p->id, p->id);
            }
            if (prog.tty) {
                rrctl_progress_show(&prog, -1, text);
            }
        }
    }
}

static int cmd_create(struct rrctl *rc, struct rrctl_opt *opts, size_t n)
{
    enum rr_session_size size = RR_SESSION_STANDARD;
    struct rrctl_opt *o = rrctl_opt(opts, n, "size");
    if (o->seen) {
        if (strcasecmp(o->value, "premium") == 0) {
            size = RR_SESSION_PREMIUM;
        } else if (strcasecmp(o->value, "standard") != 0) {
            return rrctl_usage_error(rc, "--size is standard or premium, not '%s'", o->value);
        }
    }
    uint32_t lease = 60, timeout_s = 300;
    o = rrctl_opt(opts, n, "lease");
    if (o->seen && !rrctl_uint(o->value, 1, 1440, &lease)) {
        return rrctl_usage_error(rc, "--lease is 1 to 1440 minutes, not '%s'", o->value);
    }
    o = rrctl_opt(opts, n, "timeout");
    if (o->seen && !rrctl_uint(o->value, 1, 86400, &timeout_s)) {
        return rrctl_usage_error(rc, "--timeout is 1 to 86400 seconds, not '%s'", o->value);
    }
    const char *id = rrctl_opt(opts, n, "id")->value;
    bool wait = rrctl_opt(opts, n, "wait")->seen;

    struct rrctl_config cfg;
    struct rr_frontend *fe = NULL;
    int status = open_frontend(rc, &cfg, &fe);
    if (status != RRCTL_OK) {
        return status;
    }
    struct rr_session *s = NULL;
    struct rrctl_result res;
    enum rr_client_result r = rrctl_create_session(fe, id, size, lease, &s, &res);
    if (r != RR_CLIENT_SUCCESS) {
        status = rrctl_fail_sdk(rc, r, res.message, "session create");
    } else {
        struct rr_session_properties p;
        rr_session_cached_properties(s, &p);
        if (!rc->json) {
            fprintf(stderr, "session %s created (%s)\n", p.id, rr_session_status_str(p.status));
        }
        if (wait) {
            status = wait_ready(rc, s, &p, timeout_s);
        }
        if (status == RRCTL_OK) {
            show(rc, &p);
        }
    }
    rr_session_release(&s);
    rr_frontend_release(&fe);
    rrctl_config_clear(&cfg);
    return status;
}

static int cmd_list(struct rrctl *rc)
{
    struct rrctl_config cfg;
    struct rr_frontend *fe = NULL;
    int status = open_frontend(rc, &cfg, &fe);
    if (status != RRCTL_OK) {
        return status;
    }
    struct rr_session_properties *list = NULL;
    size_t count = 0;
    struct rrctl_result res;
    enum rr_client_result r = rrctl_list_sessions(fe, &list, &count, &res);
    if (r != RR_CLIENT_SUCCESS) {
        status = rrctl_fail_sdk(rc, r, res.message, "session list");
    } else if (rc->json) {
        rrctl_print_sessions_json(list, count);
    } else if (count == 0) {
        printf("no Starting or Ready sessions\n");
    } else {
        printf("%-36s %-9s %-8s %-28s %s\n", "ID", "STATUS", "SIZE", "HOST", "LEASE");
        for (size_t i = 0; i < count; i++) {
            char host[300] = "-";
            if (list[i].hostname[0] != '\0' && list[i].handshake_port != 0) {
                snprintf(host, sizeof(host), "%s:%u", list[i].hostname, list[i].handshake_port);
            }
            printf("%-36s %-9s %-8s %-28s %u/%u min\n", list[i].id,
                   rr_session_status_str(list[i].status),
                   list[i].size == RR_SESSION_PREMIUM ? "Premium" : "Standard", host,
                   list[i].elapsed_time_minutes, list[i].max_lease_time_minutes);
        }
    }
    free(list);
    rr_frontend_release(&fe);
    rrctl_config_clear(&cfg);
    return status;
}

/* show / renew / stop / inspect: one session by id. */
enum one_op { OP_SHOW, OP_RENEW, OP_STOP, OP_INSPECT };

static int cmd_one(struct rrctl *rc, enum one_op op, const char *id, uint32_t lease)
{
    struct rrctl_config cfg;
    struct rr_frontend *fe = NULL;
    int status = open_frontend(rc, &cfg, &fe);
    if (status != RRCTL_OK) {
        return status;
    }
    struct rr_session *s = NULL;
    if (rr_frontend_open_session(fe, id, &s) != RR_CLIENT_SUCCESS) {
        status =
            rrctl_usage_error(rc, "'%s' is not a session id (1 to 256 of A-Z a-z 0-9 - _)", id);
        goto out;
    }
    struct rrctl_result res;
    struct rr_session_properties p;
    enum rr_client_result r = RR_CLIENT_SUCCESS;
    switch (op) {
    case OP_SHOW:
        r = rrctl_get_properties(s, &p, &res);
        if (r == RR_CLIENT_SUCCESS) {
            show(rc, &p);
        }
        break;
    case OP_RENEW:
        r = rrctl_update(s, lease, &res);
        if (r == RR_CLIENT_SUCCESS) {
            rr_session_cached_properties(s, &p);
            if (rc->json) {
                rrctl_print_session_json(&p);
            } else {
                printf("session %s: lease %u minutes (%u elapsed)\n", p.id,
                       p.max_lease_time_minutes, p.elapsed_time_minutes);
            }
        }
        break;
    case OP_STOP:
        r = rrctl_stop(s, &res);
        if (r == RR_CLIENT_SUCCESS) {
            if (rc->json) {
                json_t *o = json_pack("{s:s,s:s}", "id", id, "status", "Stopped");
                json_dumpf(o, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                json_decref(o);
            } else {
                printf("session %s stopped\n", id);
            }
        }
        break;
    case OP_INSPECT: {
        char path[4096];
        /* The page uses the cached hostname and port: fetch them first. */
        r = rrctl_get_properties(s, &p, &res);
        if (r == RR_CLIENT_SUCCESS) {
            r = rrctl_inspector(s, path, sizeof(path), &res);
        }
        if (r == RR_CLIENT_SUCCESS) {
            if (rc->json) {
                json_t *o = json_pack("{s:s,s:s}", "id", id, "path", path);
                json_dumpf(o, stdout, JSON_COMPACT);
                fputc('\n', stdout);
                json_decref(o);
            } else {
                printf("%s\n", path);
            }
        }
        break;
    }
    }
    if (r != RR_CLIENT_SUCCESS) {
        static const char *const names[] = {"session show", "session renew", "session stop",
                                            "inspect"};
        status = rrctl_fail_sdk(rc, r, res.message, names[op]);
    }
out:
    rr_session_release(&s);
    rr_frontend_release(&fe);
    rrctl_config_clear(&cfg);
    return status;
}

int rrctl_cmd_session(struct rrctl *rc, int argc, char **argv)
{
    struct rrctl_opt opts[] = {
        {"size", true, NULL, false},  {"lease", true, NULL, false},   {"id", true, NULL, false},
        {"wait", false, NULL, false}, {"timeout", true, NULL, false},
    };
    const size_t n = sizeof(opts) / sizeof(opts[0]);
    const char *sub = argc > 0 && argv[0][0] != '-' ? argv[0] : NULL;
    static const char *const subs[] = {"create", "list", "show", "renew", "stop"};
    static char command[32];
    for (size_t i = 0; sub != NULL && i < sizeof(subs) / sizeof(subs[0]); i++) {
        if (strcmp(sub, subs[i]) == 0) {
            snprintf(command, sizeof(command), "session %s", sub);
            rc->command = command;
        }
    }
    if (!rrctl_parse(rc, argc - (sub ? 1 : 0), argv + (sub ? 1 : 0), opts, n)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(session_help, stdout);
        return RRCTL_OK;
    }
    if (sub == NULL) {
        return rrctl_usage_error(rc, "which one: create, list, show, renew or stop?");
    }
    bool create_opts = false;
    for (size_t i = 0; i < n; i++) {
        create_opts |= opts[i].seen;
    }
    if (strcmp(sub, "create") == 0) {
        if (rc->npos != 0) {
            return rrctl_usage_error(rc, "unexpected operand '%s'", rc->pos[0]);
        }
        return cmd_create(rc, opts, n);
    }
    if (create_opts) {
        return rrctl_usage_error(rc, "--size, --lease, --id, --wait and --timeout belong to "
                                     "'session create'");
    }
    if (strcmp(sub, "list") == 0) {
        if (rc->npos != 0) {
            return rrctl_usage_error(rc, "unexpected operand '%s'", rc->pos[0]);
        }
        return cmd_list(rc);
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "stop") == 0) {
        if (rc->npos != 1) {
            return rrctl_usage_error(rc, "give one session id");
        }
        return cmd_one(rc, sub[1] == 'h' ? OP_SHOW : OP_STOP, rc->pos[0], 0);
    }
    if (strcmp(sub, "renew") == 0) {
        uint32_t lease = 0;
        if (rc->npos != 2) {
            return rrctl_usage_error(rc, "give a session id and the new lease in minutes");
        }
        if (!rrctl_uint(rc->pos[1], 1, 1440, &lease)) {
            return rrctl_usage_error(rc, "the lease is 1 to 1440 minutes, not '%s'", rc->pos[1]);
        }
        return cmd_one(rc, OP_RENEW, rc->pos[0], lease);
    }
    return rrctl_usage_error(rc, "unknown subcommand '%s'", sub);
}

int rrctl_cmd_inspect(struct rrctl *rc, int argc, char **argv)
{
    if (!rrctl_parse(rc, argc, argv, NULL, 0)) {
        return RRCTL_USAGE;
    }
    if (rc->help) {
        fputs(inspect_help, stdout);
        return RRCTL_OK;
    }
    if (rc->npos != 1) {
        return rrctl_usage_error(rc, "give one session id");
    }
    return cmd_one(rc, OP_INSPECT, rc->pos[0], 0);
}
