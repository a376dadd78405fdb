/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pose_source — static, orbit and file head poses, and the stereo views derived from them.
 * See pose_source.h. Threads: see there.
 */
#include "pose_source.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ORBIT_RADIUS_M 2.0
#define ORBIT_PERIOD_S 10.0
#define HALF_FOV_RAD 0.78539816339744831 /* 45° */
#define DEFAULT_ASPECT (16.0f / 9.0f)
/* A pose line is eight numbers; anything this long is not one. */
#define MAX_LINE_CHARS 1024u
#define PI 3.14159265358979323846

enum pose_kind { POSE_STATIC, POSE_ORBIT, POSE_FILE };

struct timed_pose {
    double t_us;
    struct rr_stream_posef pose;
};

struct pose_source {
    enum pose_kind kind;
    struct timed_pose *poses; /* POSE_FILE: by time, at least one */
    size_t count;
};

static void __attribute__((format(printf, 3, 4)))
set_err(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL || size == 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
}

/* ---- quaternions ------------------------------------------------------------------------ */

static void quat_normalize(float q[4])
{
    double n =
        sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
    for (int i = 0; i < 4; i++) {
        q[i] = (float)(q[i] / n);
    }
}

/* @p v rotated by unit quaternion @p q (x, y, z, w). */
static void quat_rotate(const float q[4], const float v[3], float out[3])
{
    /* v' = v + 2w (u × v) + 2 u × (u × v), u = (x, y, z) */
    float u[3] = {q[0], q[1], q[2]};
    float w = q[3];
    float uv[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    float uuv[3] = {u[1] * uv[2] - u[2] * uv[1], u[2] * uv[0] - u[0] * uv[2],
                    u[0] * uv[1] - u[1] * uv[0]};
    for (int i = 0; i < 3; i++) {
        out[i] = v[i] + 2.0f * (w * uv[i] + uuv[i]);
    }
}

/* The orientation whose -Z axis (OpenXR's forward) points from @p eye to @p target, with +Y
 * as close to world up as it can be. */
static void look_at(const double eye[3], const double target[3], float out_q[4])
{
    double z[3] = {eye[0] - target[0], eye[1] - target[1], eye[2] - target[2]};
    double zn = sqrt(z[0] * z[0] + z[1] * z[1] + z[2] * z[2]);
    for (int i = 0; i < 3; i++) {
        z[i] /= zn;
    }
    /* x = up × z, y = z × x; the orbit never looks straight down, so x never vanishes. */
    double x[3] = {z[2], 0.0, -z[0]};
    double xn = sqrt(x[0] * x[0] + x[2] * x[2]);
    x[0] /= xn;
    x[2] /= xn;
    double y[3] = {z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]};
    /* Rotation matrix with columns x, y, z to a quaternion (Shepperd's method). */
    double m00 = x[0], m11 = y[1], m22 = z[2];
    double trace = m00 + m11 + m22;
    double qx, qy, qz, qw;
    if (trace > 0.0) {
        double s = sqrt(trace + 1.0) * 2.0;
        qw = 0.25 * s;
        qx = (y[2] - z[1]) / s;
        qy = (z[0] - x[2]) / s;
        qz = (x[1] - y[0]) / s;
    } else if (m00 > m11 && m00 > m22) {
        double s = sqrt(1.0 + m00 - m11 - m22) * 2.0;
        qw = (y[2] - z[1]) / s;
        qx = 0.25 * s;
        qy = (y[0] + x[1]) / s;
        qz = (z[0] + x[2]) / s;
    } else if (m11 > m22) {
        double s = sqrt(1.0 + m11 - m00 - m22) * 2.0;
        qw = (z[0] - x[2]) / s;
        qx = (y[0] + x[1]) / s;
        qy = 0.25 * s;
        qz = (z[1] + y[2]) / s;
    } else {
        double s = sqrt(1.0 + m22 - m00 - m11) * 2.0;
        qw = (x[1] - y[0]) / s;
        qx = (z[0] + x[2]) / s;
        qy = (z[1] + y[2]) / s;
        qz = 0.25 * s;
    }
    out_q[0] = (float)qx;
    out_q[1] = (float)qy;
    out_q[2] = (float)qz;
    out_q[3] = (float)qw;
    quat_normalize(out_q);
}

/* ---- the pose file ---------------------------------------------------------------------- */

/* Read @p path whole, refusing more than POSE_SOURCE_MAX_FILE_SIZE bytes. */
static enum pose_source_result read_file(const char *path, char **out_text, size_t *out_size,
                                         char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_err(err, err_size,
                "cannot open the pose file '%s': %s; give static, orbit or a readable file", path,
                strerror(errno));
        return POSE_SOURCE_IO;
    }
    char *text = malloc(POSE_SOURCE_MAX_FILE_SIZE + 1);
    if (text == NULL) {
        fclose(f);
        set_err(err, err_size, "out of memory reading the pose file '%s'", path);
        return POSE_SOURCE_NO_MEMORY;
    }
    size_t size = fread(text, 1, POSE_SOURCE_MAX_FILE_SIZE + 1, f);
    bool failed = ferror(f) != 0;
    int saved = errno;
    fclose(f);
    if (failed) {
        free(text);
        set_err(err, err_size, "cannot read the pose file '%s': %s", path, strerror(saved));
        return POSE_SOURCE_IO;
    }
    if (size > POSE_SOURCE_MAX_FILE_SIZE) {
        free(text);
        set_err(err, err_size, "%s: larger than %u MiB; a pose file holds at most %u lines", path,
                POSE_SOURCE_MAX_FILE_SIZE >> 20, POSE_SOURCE_MAX_LINES);
        return POSE_SOURCE_FORMAT;
    }
    text[size] = '\0';
    *out_text = text;
    *out_size = size;
    return POSE_SOURCE_OK;
}

/* Parse one line (comment and line end removed) into @p out. Returns false with the reason in
 * @p why. An empty line sets *out_empty. */
static bool parse_line(char *line, struct timed_pose *out, bool *out_empty, const char **why)
{
    double v[8];
    int n = 0;
    char *p = line;
    *out_empty = false;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        if (n == 8) {
            *why = "more than 8 numbers (t_ms px py pz qx qy qz qw)";
            return false;
        }
        char *end = NULL;
        errno = 0;
        v[n] = strtod(p, &end);
        if (end == p || (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\r')) {
            *why = "not a number; expected t_ms px py pz qx qy qz qw";
            return false;
        }
        if (!isfinite(v[n]) || errno == ERANGE) {
            *why = "a number is infinite, NaN or out of range";
            return false;
        }
        n++;
        p = end;
    }
    if (n == 0) {
        *out_empty = true;
        return true;
    }
    if (n < 8) {
        *why = "fewer than 8 numbers (t_ms px py pz qx qy qz qw)";
        return false;
    }
    if (v[0] < 0.0 || v[0] > 1e12) {
        *why = "the time t_ms must be between 0 and 10^12";
        return false;
    }
    double qn = sqrt(v[4] * v[4] + v[5] * v[5] + v[6] * v[6] + v[7] * v[7]);
    if (qn < 1e-6) {
        *why = "the orientation quaternion (qx qy qz qw) is zero";
        return false;
    }
    for (int i = 1; i < 4; i++) {
        if (fabs(v[i]) > 1e6) {
            *why = "a position is further than 1000 km";
            return false;
        }
    }
    out->t_us = v[0] * 1000.0;
    for (int i = 0; i < 3; i++) {
        out->pose.position[i] = (float)v[1 + i];
    }
    for (int i = 0; i < 4; i++) {
        out->pose.orientation[i] = (float)(v[4 + i] / qn);
    }
    return true;
}

/* Split @p text into lines and parse each; the error names file:line. */
static enum pose_source_result parse_file(struct pose_source *src, const char *path, char *text,
                                          size_t size, char *err, size_t err_size)
{
    size_t cap = 0;
    size_t line_no = 0;
    char *p = text;
    char *end = text + size;
    if (memchr(text, '\0', size) != NULL) {
        set_err(err, err_size, "%s: holds a NUL byte; a pose file is text", path);
        return POSE_SOURCE_FORMAT;
    }
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl != NULL ? nl : end;
        if (++line_no > POSE_SOURCE_MAX_LINES) {
            set_err(err, err_size, "%s: more than %u lines", path, POSE_SOURCE_MAX_LINES);
            return POSE_SOURCE_FORMAT;
        }
        *line_end = '\0';
        char *hash = strchr(p, '#');
        if (hash != NULL) {
            *hash = '\0';
        }
        if (strlen(p) > MAX_LINE_CHARS) {
            set_err(err, err_size, "%s:%zu: longer than %u characters", path, line_no,
                    MAX_LINE_CHARS);
            return POSE_SOURCE_FORMAT;
        }
        struct timed_pose tp;
        bool empty = false;
        const char *why = NULL;
        if (!parse_line(p, &tp, &empty, &why)) {
            set_err(err, err_size, "%s:%zu: %s", path, line_no, why);
            return POSE_SOURCE_FORMAT;
        }
        p = line_end + 1;
        if (empty) {
            continue;
        }
        if (src->count > 0 && tp.t_us < src->poses[src->count - 1].t_us) {
            set_err(err, err_size, "%s:%zu: the time goes back; sort the lines by t_ms", path,
                    line_no);
            return POSE_SOURCE_FORMAT;
        }
        if (src->count == cap) {
            size_t ncap = cap != 0 ? cap * 2 : 256;
            struct timed_pose *grown = realloc(src->poses, ncap * sizeof *grown);
            if (grown == NULL) {
                set_err(err, err_size, "out of memory reading the pose file '%s'", path);
                return POSE_SOURCE_NO_MEMORY;
            }
            src->poses = grown;
            cap = ncap;
        }
        src->poses[src->count++] = tp;
    }
    if (src->count == 0) {
        set_err(err, err_size, "%s: no poses; write one per line: t_ms px py pz qx qy qz qw", path);
        return POSE_SOURCE_FORMAT;
    }
    return POSE_SOURCE_OK;
}

static enum pose_source_result load_file(struct pose_source *src, const char *path, char *err,
                                         size_t err_size)
{
    char *text = NULL;
    size_t size = 0;
    enum pose_source_result r = read_file(path, &text, &size, err, err_size);
    if (r == POSE_SOURCE_OK) {
        r = parse_file(src, path, text, size, err, err_size);
        free(text);
    }
    return r;
}

enum pose_source_result pose_source_create(const char *spec, struct pose_source **out_source,
                                           char *err, size_t err_size)
{
    *out_source = NULL;
    struct pose_source *src = calloc(1, sizeof *src);
    if (src == NULL) {
        set_err(err, err_size, "out of memory");
        return POSE_SOURCE_NO_MEMORY;
    }
    if (strcasecmp(spec, "static") == 0) {
        src->kind = POSE_STATIC;
    } else if (strcasecmp(spec, "orbit") == 0) {
        src->kind = POSE_ORBIT;
    } else {
        src->kind = POSE_FILE;
        enum pose_source_result r = load_file(src, spec, err, err_size);
        if (r != POSE_SOURCE_OK) {
            pose_source_destroy(&src);
            return r;
        }
    }
    *out_source = src;
    return POSE_SOURCE_OK;
}

void pose_source_destroy(struct pose_source **source_ptr)
{
    if (source_ptr == NULL || *source_ptr == NULL) {
        return;
    }
    free((*source_ptr)->poses);
    free(*source_ptr);
    *source_ptr = NULL;
}

/* ---- sampling --------------------------------------------------------------------------- */

static void orbit_pose(uint64_t t_us, struct rr_stream_posef *out)
{
    double angle = 2.0 * PI * fmod((double)t_us / 1e6, ORBIT_PERIOD_S) / ORBIT_PERIOD_S;
    double eye[3] = {ORBIT_RADIUS_M * sin(angle), POSE_SOURCE_HEAD_HEIGHT_M,
                     ORBIT_RADIUS_M * cos(angle)};
    double origin[3] = {0.0, 0.0, 0.0};
    for (int i = 0; i < 3; i++) {
        out->position[i] = (float)eye[i];
    }
    look_at(eye, origin, out->orientation);
}

/* Linear position and normalised-linear orientation between two recorded poses: at display
 * rates the steps are small enough that nlerp and slerp agree. */
static void blend(const struct rr_stream_posef *a, const struct rr_stream_posef *b, double f,
                  struct rr_stream_posef *out)
{
    double dot = 0.0;
    for (int i = 0; i < 4; i++) {
        dot += (double)a->orientation[i] * b->orientation[i];
    }
    double sign = dot < 0.0 ? -1.0 : 1.0; /* q and -q are the same turn; take the short way */
    for (int i = 0; i < 3; i++) {
        out->position[i] = (float)(a->position[i] + (b->position[i] - a->position[i]) * f);
    }
    for (int i = 0; i < 4; i++) {
        out->orientation[i] =
            (float)(a->orientation[i] + (sign * b->orientation[i] - a->orientation[i]) * f);
    }
    quat_normalize(out->orientation);
}

/* The file loops: its last time is the period, so the last line leads back to the first. */
static void file_pose(const struct pose_source *src, uint64_t t_us, struct rr_stream_posef *out)
{
    const struct timed_pose *p = src->poses;
    size_t n = src->count;
    double period = p[n - 1].t_us;
    double t = period > 0.0 ? fmod((double)t_us, period) : 0.0;
    if (n == 1 || t <= p[0].t_us) {
        *out = p[0].pose;
        return;
    }
    /* The last pose at or before t. */
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].t_us <= t) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    double span = p[hi].t_us - p[lo].t_us;
    double f = span > 0.0 ? (t - p[lo].t_us) / span : 0.0;
    blend(&p[lo].pose, &p[hi].pose, f > 1.0 ? 1.0 : f, out);
}

void pose_source_sample(const struct pose_source *src, uint64_t t_us, float eye_aspect,
                        struct rr_stream_pose *out)
{
    static const float k_right[3] = {1.0f, 0.0f, 0.0f};
    struct rr_stream_posef head = {
        .position = {0.0f, POSE_SOURCE_HEAD_HEIGHT_M, 0.0f},
        .orientation = {0.0f, 0.0f, 0.0f, 1.0f},
    };
    if (src->kind == POSE_ORBIT) {
        orbit_pose(t_us, &head);
    } else if (src->kind == POSE_FILE) {
        file_pose(src, t_us, &head);
    }
    out->head = head;

    /* The eyes sit half the IPD to either side along the head's own x axis. */
    float right[3];
    quat_rotate(head.orientation, k_right, right);
    for (int eye = 0; eye < 2; eye++) {
        float side = eye == 0 ? -0.5f : 0.5f;
        out->view[eye] = head;
        for (int i = 0; i < 3; i++) {
            out->view[eye].position[i] += side * POSE_SOURCE_IPD_M * right[i];
        }
    }

    /* 45° to each side; the vertical half-angle keeps square pixels for the eye's aspect. */
    float aspect = eye_aspect > 0.0f && isfinite(eye_aspect) ? eye_aspect : DEFAULT_ASPECT;
    float half_h = (float)HALF_FOV_RAD;
    float half_v = (float)atan(tan(HALF_FOV_RAD) / aspect);
    for (int eye = 0; eye < 2; eye++) {
        out->fov[eye].angle_left = -half_h;
        out->fov[eye].angle_right = half_h;
        out->fov[eye].angle_up = half_v;
        out->fov[eye].angle_down = -half_v;
    }
}
