/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_script — reading and checking a scene script (see scene_script.h; the language is in
 * docs/player.md). Everything is checked here, before connecting, so that a typo in line 40
 * does not surface after a 30-second model load. Threads: main only.
 */
#include "scene_script_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKENS 16u

struct parser {
    struct scene_script *s;
    const char *path;
    unsigned line;
    char *tok[MAX_TOKENS];
    unsigned ntok;
    char *err;
    size_t err_size;
};

static bool __attribute__((format(printf, 2, 3))) fail(struct parser *p, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->err_size, "%s:%u: %s", p->path, p->line, why);
    return false;
}

static bool valid_name(const char *t)
{
    if (!isalpha((unsigned char)t[0]) && t[0] != '_') {
        return false;
    }
    size_t n = 0;
    for (; t[n] != '\0'; n++) {
        if (!isalnum((unsigned char)t[n]) && t[n] != '_' && t[n] != '-') {
            return false;
        }
    }
    return n < SCENE_SCRIPT_MAX_NAME && strcasecmp(t, "root") != 0 && strcasecmp(t, "all") != 0;
}

static int find_name(const struct scene_script *s, const char *t)
{
    for (size_t i = 0; i < s->name_count; i++) {
        if (strcmp(s->names[i], t) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* A name this line binds: new, or bound again (the later binding wins from here on). */
static bool bind_name(struct parser *p, const char *t, int *out)
{
    if (!valid_name(t)) {
        return fail(p, "'%s' is not a name: letters, digits, '_' and '-', starting with a letter, "
                       "at most %u characters, not 'root' or 'all'",
                    t, SCENE_SCRIPT_MAX_NAME - 1);
    }
    int i = find_name(p->s, t);
    if (i < 0) {
        if (p->s->name_count == SCENE_SCRIPT_MAX_NAMES) {
            return fail(p, "more than %u names", SCENE_SCRIPT_MAX_NAMES);
        }
        i = (int)p->s->name_count++;
        snprintf(p->s->names[i], SCENE_SCRIPT_MAX_NAME, "%s", t);
    }
    *out = i;
    return true;
}

/* A reference: `root`, a decimal id, or a name bound by an earlier line. */
static bool parse_ref(struct parser *p, const char *t, struct script_ref *out)
{
    out->name = -1;
    out->id = 0;
    if (strcasecmp(t, "root") == 0) {
        return true;
    }
    if (isdigit((unsigned char)t[0])) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(t, &end, 10);
        if (*end != '\0' || errno != 0 || v > UINT32_MAX) {
            return fail(p, "'%s' is not an id (0 to %u)", t, UINT32_MAX);
        }
        out->id = (uint32_t)v;
        return true;
    }
    out->name = find_name(p->s, t);
    if (out->name < 0) {
        return fail(p, "'%s' is not bound by an earlier line (load, entity, pick or cut)", t);
    }
    return true;
}

/* Numbers as strtof reads them; "nan" and "inf" pass on purpose: the API must refuse them,
 * and a script is how that is shown. */
static bool parse_floats(struct parser *p, unsigned first, unsigned count, float *out)
{
    for (unsigned i = 0; i < count; i++) {
        const char *t = p->tok[first + i];
        char *end;
        out[i] = strtof(t, &end);
        if (end == t || *end != '\0') {
            return fail(p, "'%s' is not a number", t);
        }
    }
    return true;
}

static bool parse_expect(struct parser *p, const char *t, enum rr_scene_result *out)
{
    for (int r = 0; r < RR_SCENE_RESULT_COUNT; r++) {
        if (strcasecmp(t, rr_scene_result_str((enum rr_scene_result)r)) == 0) {
            *out = (enum rr_scene_result)r;
            return true;
        }
    }
    return fail(p, "'%s' is not a scene result (Success, InvalidParam, EntityNotFound, "
                   "AssetNotFound, …: docs/scene.md)",
                t);
}

static bool want_args(struct parser *p, unsigned first, unsigned min, unsigned max,
                      const char *usage)
{
    unsigned n = p->ntok - first;
    if (n < min || n > max) {
        return fail(p, "usage: %s", usage);
    }
    return true;
}

static bool parse_override(struct parser *p, const char *t, uint8_t *out)
{
    if (strcasecmp(t, "on") == 0) {
        *out = RR_SCENE_FORCE_ON;
    } else if (strcasecmp(t, "off") == 0) {
        *out = RR_SCENE_FORCE_OFF;
    } else if (strcasecmp(t, "inherit") == 0) {
        *out = RR_SCENE_INHERIT;
    } else {
        return fail(p, "'%s': give on, off or inherit", t);
    }
    return true;
}

static bool parse_state(struct parser *p, unsigned a, struct script_cmd *c)
{
    static const struct {
        const char *name;
        enum script_field field;
    } k_fields[] = {
        {"hidden", FIELD_HIDDEN},         {"selected", FIELD_SELECTED},
        {"seethrough", FIELD_SEE_THROUGH}, {"cutplanes", FIELD_CUT_PLANES},
        {"tint", FIELD_TINT},
    };
    const char *verb = c->verb;
    c->op = OP_STATE;
    if (strcasecmp(verb, "tint") == 0) {
        c->field = FIELD_TINT;
        c->value = RR_SCENE_FORCE_ON;
        return want_args(p, a, 5, 5, "tint REF R G B A") && parse_ref(p, p->tok[a], &c->target) &&
               parse_floats(p, a + 1, 4, c->v);
    }
    if (strcasecmp(verb, "hide") == 0 || strcasecmp(verb, "show") == 0 ||
        strcasecmp(verb, "select") == 0) {
        /* show forces "not hidden", so that it also shows a part of a hidden model. */
        bool select = strcasecmp(verb, "select") == 0;
        c->field = select ? FIELD_SELECTED : FIELD_HIDDEN;
        c->value = strcasecmp(verb, "show") == 0 ? RR_SCENE_FORCE_OFF : RR_SCENE_FORCE_ON;
        return want_args(p, a, 1, 1, "hide|show|select REF") && parse_ref(p, p->tok[a], &c->target);
    }
    if (!want_args(p, a, 3, 7, "state REF hidden|selected|seethrough|cutplanes|tint "
                               "on|off|inherit [R G B A]") ||
        !parse_ref(p, p->tok[a], &c->target)) {
        return false;
    }
    size_t i = 0;
    while (i < sizeof k_fields / sizeof k_fields[0] && strcasecmp(p->tok[a + 1], k_fields[i].name))
        i++;
    if (i == sizeof k_fields / sizeof k_fields[0]) {
        return fail(p, "'%s' is not a state field: hidden, selected, seethrough, cutplanes, tint",
                    p->tok[a + 1]);
    }
    c->field = k_fields[i].field;
    if (!parse_override(p, p->tok[a + 2], &c->value)) {
        return false;
    }
    bool colour = c->field == FIELD_TINT && c->value == RR_SCENE_FORCE_ON;
    if (p->ntok - a != (colour ? 7u : 3u)) {
        return fail(p, colour ? "usage: state REF tint on R G B A"
                              : "usage: state REF FIELD on|off|inherit");
    }
    return !colour || parse_floats(p, a + 3, 4, c->v);
}

static bool parse_command(struct parser *p, unsigned a, struct script_cmd *c)
{
    const char *v = p->tok[a++];
    c->verb = v;
    if (strcasecmp(v, "load") == 0) {
        c->op = OP_LOAD;
        if (!want_args(p, a, 2, 3, "load NAME URI [PARENT]") ||
            (p->ntok - a == 3 && !parse_ref(p, p->tok[a + 2], &c->other)) ||
            !bind_name(p, p->tok[a], &c->bind)) {
            return false;
        }
        c->text = p->tok[a + 1];
        return true;
    }
    if (strcasecmp(v, "entity") == 0) {
        c->op = OP_ENTITY;
        if (!want_args(p, a, 1, 3, "entity NAME [PARENT [LABEL]]") ||
            (p->ntok - a >= 2 && !parse_ref(p, p->tok[a + 1], &c->other)) ||
            !bind_name(p, p->tok[a], &c->bind)) {
            return false;
        }
        c->text = p->ntok - a == 3 ? p->tok[a + 2] : NULL;
        return true;
    }
    if (strcasecmp(v, "pick") == 0) {
        c->op = OP_PICK;
        return want_args(p, a, 7, 7, "pick NAME OX OY OZ DX DY DZ") &&
               parse_floats(p, a + 1, 6, c->v) && bind_name(p, p->tok[a], &c->bind);
    }
    if (strcasecmp(v, "move") == 0) {
        c->op = OP_MOVE;
        if (!want_args(p, a, 4, 11, "move REF X Y Z [QX QY QZ QW [SX SY SZ]]")) {
            return false;
        }
        c->nv = p->ntok - a - 1;
        if (c->nv != 3 && c->nv != 7 && c->nv != 10) {
            return fail(p, "usage: move REF X Y Z [QX QY QZ QW [SX SY SZ]]");
        }
        return parse_ref(p, p->tok[a], &c->target) && parse_floats(p, a + 1, c->nv, c->v);
    }
    if (strcasecmp(v, "parent") == 0) {
        c->op = OP_PARENT;
        return want_args(p, a, 2, 2, "parent REF PARENT") && parse_ref(p, p->tok[a], &c->target) &&
               parse_ref(p, p->tok[a + 1], &c->other);
    }
    if (strcasecmp(v, "state") == 0 || strcasecmp(v, "tint") == 0 || strcasecmp(v, "hide") == 0 ||
        strcasecmp(v, "show") == 0 || strcasecmp(v, "select") == 0) {
        return parse_state(p, a, c);
    }
    if (strcasecmp(v, "color") == 0 || strcasecmp(v, "colour") == 0) {
        c->op = OP_COLOR;
        if (!want_args(p, a, 2, 5, "color REF R G B A | color REF none") ||
            !parse_ref(p, p->tok[a], &c->target)) {
            return false;
        }
        c->all = p->ntok - a == 2;
        if (c->all && strcasecmp(p->tok[a + 1], "none") != 0) {
            return fail(p, "usage: color REF R G B A | color REF none");
        }
        return c->all || (want_args(p, a, 5, 5, "color REF R G B A") &&
                          parse_floats(p, a + 1, 4, c->v));
    }
    if (strcasecmp(v, "cut") == 0) {
        c->op = OP_CUT;
        return want_args(p, a, 5, 5, "cut NAME NX NY NZ D") && parse_floats(p, a + 1, 4, c->v) &&
               bind_name(p, p->tok[a], &c->bind);
    }
    if (strcasecmp(v, "uncut") == 0) {
        c->op = OP_UNCUT;
        if (!want_args(p, a, 1, 1, "uncut NAME|ID|all")) {
            return false;
        }
        c->all = strcasecmp(p->tok[a], "all") == 0;
        return c->all || parse_ref(p, p->tok[a], &c->target);
    }
    if (strcasecmp(v, "raycast") == 0) {
        c->op = OP_RAYCAST;
        if (!want_args(p, a, 6, 7, "raycast OX OY OZ DX DY DZ [all]")) {
            return false;
        }
        c->all = p->ntok - a == 7;
        if (c->all && strcasecmp(p->tok[a + 6], "all") != 0) {
            return fail(p, "usage: raycast OX OY OZ DX DY DZ [all]");
        }
        return parse_floats(p, a, 6, c->v);
    }
    if (strcasecmp(v, "query") == 0) {
        c->op = OP_QUERY;
        return want_args(p, a, 6, 6, "query MINX MINY MINZ MAXX MAXY MAXZ") &&
               parse_floats(p, a, 6, c->v);
    }
    if (strcasecmp(v, "destroy") == 0) {
        c->op = OP_DESTROY;
        return want_args(p, a, 1, 1, "destroy REF") && parse_ref(p, p->tok[a], &c->target);
    }
    if (strcasecmp(v, "sleep") == 0) {
        c->op = OP_SLEEP;
        if (!want_args(p, a, 1, 1, "sleep MS") || !parse_floats(p, a, 1, c->v)) {
            return false;
        }
        if (!(c->v[0] >= 0.0f && c->v[0] <= (float)SCENE_SCRIPT_MAX_SLEEP_MS)) {
            return fail(p, "sleep: give 0 to %u milliseconds", SCENE_SCRIPT_MAX_SLEEP_MS);
        }
        return true;
    }
    return fail(p, "unknown command '%s' (load, entity, pick, move, parent, tint, hide, show, "
                   "select, state, color, cut, uncut, raycast, query, destroy, sleep)",
                v);
}

static bool parse_line(struct parser *p, char *line)
{
    char *hash = strchr(line, '#');
    if (hash != NULL) {
        *hash = '\0';
    }
    p->ntok = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t != NULL;
         t = strtok_r(NULL, " \t\r", &save)) {
        if (p->ntok == MAX_TOKENS) {
            return fail(p, "more than %u words", MAX_TOKENS);
        }
        p->tok[p->ntok++] = t;
    }
    if (p->ntok == 0) {
        return true;
    }
    if (p->s->count == SCENE_SCRIPT_MAX_LINES) {
        return fail(p, "more than %u commands", SCENE_SCRIPT_MAX_LINES);
    }
    struct script_cmd *c = &p->s->cmds[p->s->count];
    memset(c, 0, sizeof *c);
    c->line = p->line;
    c->bind = -1;
    c->target.name = c->other.name = -1;
    c->expect = RR_SCENE_SUCCESS;
    unsigned a = 0;
    if (strcasecmp(p->tok[0], "expect") == 0) {
        if (p->ntok < 3) {
            return fail(p, "usage: expect RESULT COMMAND …");
        }
        if (!parse_expect(p, p->tok[1], &c->expect)) {
            return false;
        }
        a = 2;
    }
    if (!parse_command(p, a, c)) {
        return false;
    }
    if (c->op == OP_SLEEP && c->expect != RR_SCENE_SUCCESS) {
        return fail(p, "sleep always succeeds: no expect");
    }
    /* Tokens point into the file's text: keep copies of the strings the run uses. */
    c->verb = strdup(c->verb);
    c->text = c->text != NULL ? strdup(c->text) : NULL;
    if (c->verb == NULL || (c->op == OP_LOAD && c->text == NULL)) {
        free((char *)c->verb);
        free(c->text);
        return fail(p, "out of memory");
    }
    p->s->count++;
    return true;
}

static bool read_text(const char *path, char **out, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "cannot open the scene script '%s': %s", path, strerror(errno));
        return false;
    }
    char *text = malloc(SCENE_SCRIPT_MAX_FILE_SIZE + 1);
    size_t n = text != NULL ? fread(text, 1, SCENE_SCRIPT_MAX_FILE_SIZE + 1, f) : 0;
    bool bad = text == NULL || ferror(f);
    fclose(f);
    if (bad || n > SCENE_SCRIPT_MAX_FILE_SIZE) {
        snprintf(err, err_size, "cannot read the scene script '%s': %s", path,
                 text == NULL ? "out of memory"
                 : n > SCENE_SCRIPT_MAX_FILE_SIZE ? "larger than 1 MiB"
                                                  : "read error");
        free(text);
        return false;
    }
    if (memchr(text, '\0', n) != NULL) {
        snprintf(err, err_size, "the scene script '%s' is not text (it holds a NUL byte)", path);
        free(text);
        return false;
    }
    text[n] = '\0';
    *out = text;
    return true;
}

bool scene_script_load(const char *path, struct scene_script **out_script, char *err,
                       size_t err_size)
{
    *out_script = NULL;
    char *text = NULL;
    if (!read_text(path, &text, err, err_size)) {
        return false;
    }
    struct scene_script *s = calloc(1, sizeof *s);
    struct parser p = {.s = s, .path = path, .err = err, .err_size = err_size};
    if (s != NULL) {
        s->cmds = calloc(SCENE_SCRIPT_MAX_LINES, sizeof *s->cmds);
    }
    if (s == NULL || s->cmds == NULL) {
        snprintf(err, err_size, "out of memory for the scene script");
        free(text);
        scene_script_free(&s);
        return false;
    }
    bool ok = true;
    for (char *line = text; ok && line != NULL;) {
        char *next = strchr(line, '\n');
        if (next != NULL) {
            *next++ = '\0';
        }
        p.line++;
        ok = parse_line(&p, line);
        line = next;
    }
    free(text);
    if (!ok) {
        scene_script_free(&s);
        return false;
    }
    if (s->count == 0) {
        snprintf(err, err_size, "the scene script '%s' has no commands", path);
        scene_script_free(&s);
        return false;
    }
    *out_script = s;
    return true;
}

void scene_script_free(struct scene_script **script_ptr)
{
    if (script_ptr == NULL || *script_ptr == NULL) {
        return;
    }
    struct scene_script *s = *script_ptr;
    for (size_t i = 0; s->cmds != NULL && i < s->count; i++) {
        free((char *)s->cmds[i].verb);
        free(s->cmds[i].text);
    }
    free(s->cmds);
    free(s);
    *script_ptr = NULL;
}
