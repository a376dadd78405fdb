/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_stream_encode — the encoder against the ffmpeg command line (see
 * bench_stream_encode.h).
 * Threads: the measuring thread; ffmpeg is a child process, waited for.
 */
#include "bench_stream_encode.h"

#include "bench_stats.h"
#include "bench_stream.h"
#include "bench_stream_pattern.h"
#include "encoder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define MAX_ROUNDS 16
/* The stream's default keyframe interval (5 s): one IDR at the start of every run. */
#define KEYINT (5u * BENCH_STREAM_FPS)

struct job {
    const struct bench_encode_params *p;
    uint32_t width; /* both eyes */
    size_t frame_bytes;
    char ffmpeg[PATH_MAX];
    char frames_path[PATH_MAX];
    char h264_path[PATH_MAX];
    uint8_t *frames; /* all of them, read back from frames_path */
};

/* ---- the frames ---------------------------------------------------------------------------- */

static bool temp_path(char *out, size_t size, const char *suffix)
{
    const char *dir = getenv("TMPDIR");
    snprintf(out, size, "%s/openrr-bench-stream-XXXXXX%s",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp", suffix);
    int fd = mkstemps(out, (int)strlen(suffix));
    if (fd < 0) {
        perror("bench_stream: temporary file");
        out[0] = '\0';
        return false;
    }
    close(fd);
    return true;
}

static bool write_frames(struct job *j)
{
    struct bench_pattern pat = {0};
    uint8_t *frame = malloc(j->frame_bytes);
    bool ok = frame != NULL && bench_pattern_init(&pat, j->p->eye_width, j->p->eye_height);
    FILE *f = ok ? fopen(j->frames_path, "wb") : NULL;
    for (unsigned i = 0; f != NULL && ok && i < j->p->frames; i++) {
        bench_pattern_render(&pat, i, frame, (size_t)j->width * 4u);
        ok = fwrite(frame, 1, j->frame_bytes, f) == j->frame_bytes;
    }
    if (f != NULL)
        ok = fclose(f) == 0 && ok;
    else
        ok = false;
    bench_pattern_fini(&pat);
    free(frame);
    if (!ok)
        fprintf(stderr, "bench_stream: cannot write the raw frames to %s\n", j->frames_path);
    return ok;
}

static bool read_frames(struct job *j)
{
    size_t total = j->frame_bytes * j->p->frames;
    j->frames = malloc(total);
    FILE *f = j->frames != NULL ? fopen(j->frames_path, "rb") : NULL;
    bool ok = f != NULL && fread(j->frames, 1, total, f) == total;
    if (f != NULL)
        fclose(f);
    if (!ok)
        fprintf(stderr, "bench_stream: cannot read the raw frames back (%zu MB)\n",
                total / 1000000u);
    return ok;
}

/* ---- the anchor: ffmpeg ---------------------------------------------------------------------- */

static bool find_ffmpeg(char *out, size_t size)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        return false;
    const char *p = path;
    while (*p != '\0') {
        size_t len = strcspn(p, ":");
        snprintf(out, size, "%.*s/ffmpeg", (int)len, len > 0 ? p : ".");
        if (access(out, X_OK) == 0)
            return true;
        p += len;
        if (*p == ':')
            p++;
    }
    return false;
}

/* The same settings as rr_encoder_open gives libx264 (encoder.c), spelled for the command
 * line: NV12 through swscale's fast bilinear path, preset, tune, CRF capped by a VBV of two
 * frames at the cap, the stream's keyframe interval, no scene cuts, forced IDRs. */
static int build_argv(const struct job *j, bool one_frame, const char *output, char *bufs,
                      size_t bufs_size, const char **argv)
{
    char *size = bufs, *rate = bufs + 32, *maxrate = bufs + 64, *bufsize = bufs + 96,
         *gop = bufs + 128;
    if (bufs_size < 160)
        return 0;
    snprintf(size, 32, "%ux%u", j->width, j->p->eye_height);
    snprintf(rate, 32, "%u", BENCH_STREAM_FPS);
    snprintf(maxrate, 32, "%uk", BENCH_STREAM_KBPS);
    snprintf(bufsize, 32, "%uk", BENCH_STREAM_KBPS * 2u / BENCH_STREAM_FPS);
    snprintf(gop, 32, "%u", KEYINT);
    const char *head[] = {j->ffmpeg, "-hide_banner", "-nostdin", "-loglevel",   "error", "-y",
                          "-f",      "rawvideo",     "-pix_fmt", "rgba",        "-s",    size,
                          "-r",      rate,           "-i",       j->frames_path};
    const char *tail[] = {
        "-sws_flags", "fast_bilinear", "-pix_fmt",    "nv12",  "-c:v", "libx264", "-preset",
        "ultrafast",  "-tune",         "zerolatency", "-bf",   "0",    "-crf",    "23",
        "-maxrate",   maxrate,         "-bufsize",    bufsize, "-g",   gop,       "-forced-idr",
        "1",          "-x264-params",  "scenecut=0"};
    int n = 0;
    for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
        argv[n++] = head[i];
    if (one_frame) {
        argv[n++] = "-frames:v";
        argv[n++] = "1";
    }
    for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
        argv[n++] = tail[i];
    argv[n++] = "-f";
    argv[n++] = output != NULL ? "h264" : "null";
    argv[n++] = output != NULL ? output : "-";
    argv[n] = NULL;
    return n;
}

#define MAX_ARGS 64

static void describe(const char **argv, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; argv[i] != NULL && len + 1 < size; i++) {
        int w = snprintf(out + len, size - len, "%s%s", i > 0 ? " " : "", argv[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

/* Run ffmpeg to the end; its wall time (spawn to exit) into *out_ns. */
static bool run_ffmpeg(const struct job *j, bool one_frame, const char *output, uint64_t *out_ns,
                       char *cmd, size_t cmd_size)
{
    const char *argv[MAX_ARGS];
    char bufs[160];
    build_argv(j, one_frame, output, bufs, sizeof(bufs), argv);
    if (cmd != NULL)
        describe(argv, cmd, cmd_size);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    uint64_t t0 = bench_now_ns();
    pid_t pid;
    int err = posix_spawn(&pid, j->ffmpeg, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err != 0) {
        fprintf(stderr, "bench_stream: cannot start %s: %s\n", j->ffmpeg, strerror(err));
        return false;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("bench_stream: waitpid");
            return false;
        }
    }
    *out_ns = bench_now_ns() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_stream: ffmpeg failed (status %d)\n", status);
        return false;
    }
    return true;
}

/* ---- the subject: rr_encoder ------------------------------------------------------------- */

/* Mean time of frames 2..N (the first, an IDR, is left out on both sides: ffmpeg's single
 * frame run, subtracted, contains it too); total output bytes into *out_bytes. */
static bool run_encoder(const struct job *j, double *out_ms, double *out_bytes)
{
    struct rr_encoder_config cfg = {.codec = "h264",
                                    .encoder = BENCH_STREAM_ENCODER,
                                    .width = j->width,
                                    .height = j->p->eye_height,
                                    .fps = BENCH_STREAM_FPS,
                                    .bitrate_kbps = BENCH_STREAM_KBPS,
                                    .keyframe_interval = KEYINT};
    struct rr_encoder *enc = NULL;
    char err[256] = "";
    if (!rr_encoder_open(&cfg, &enc, err, sizeof(err))) {
        fprintf(stderr, "bench_stream: rr_encoder_open: %s\n", err);
        return false;
    }
    uint64_t timed_ns = 0;
    double bytes = 0;
    bool ok = true;
    for (unsigned i = 0; ok && i < j->p->frames; i++) {
        struct rr_encoded pkt;
        uint64_t t0 = bench_now_ns();
        ok = rr_encoder_encode_rgba(enc, j->frames + (size_t)i * j->frame_bytes,
                                    (size_t)j->width * 4u, false, &pkt, err, sizeof(err));
        uint64_t dt = bench_now_ns() - t0;
        if (ok && i > 0)
            timed_ns += dt;
        if (ok)
            bytes += (double)pkt.size;
    }
    rr_encoder_close(&enc);
    if (!ok) {
        fprintf(stderr, "bench_stream: rr_encoder_encode_rgba: %s\n", err);
        return false;
    }
    *out_ms = (double)timed_ns / 1e6 / (double)(j->p->frames - 1);
    *out_bytes = bytes;
    return true;
}

/* ---- the comparison ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* One untimed ffmpeg run writing the bitstream: its size against the encoder's shows both
 * sides did the same work (and it warms the page cache and ffmpeg's binary). */
static bool anchor_output_size(struct job *j, struct bench_encode_result *out)
{
    uint64_t ns;
    struct stat st;
    if (!run_ffmpeg(j, false, j->h264_path, &ns, NULL, 0))
        return false;
    if (stat(j->h264_path, &st) != 0) {
        perror("bench_stream: ffmpeg's output");
        return false;
    }
    out->anchor_bytes_per_frame = (double)st.st_size / (double)j->p->frames;
    return true;
}

static bool rounds(struct job *j, struct bench_encode_result *out)
{
    double a[MAX_ROUNDS], s[MAX_ROUNDS], ratio[MAX_ROUNDS], start[MAX_ROUNDS];
    unsigned n = j->p->rounds < MAX_ROUNDS ? j->p->rounds : MAX_ROUNDS;
    for (unsigned r = 0; r < n; r++) {
        uint64_t one_ns, all_ns;
        double bytes;
        if (!run_ffmpeg(j, true, NULL, &one_ns, NULL, 0) ||
            !run_ffmpeg(j, false, NULL, &all_ns, out->command, sizeof(out->command)) ||
            !run_encoder(j, &s[r], &bytes))
            return false;
        start[r] = (double)one_ns / 1e6;
        a[r] = ((double)all_ns - (double)one_ns) / 1e6 / (double)(j->p->frames - 1);
        ratio[r] = a[r] > 0 ? s[r] / a[r] : NAN;
        out->subject_bytes_per_frame = bytes / (double)j->p->frames;
        out->rounds = r + 1;
    }
    out->anchor_ms = median(a, n);
    out->subject_ms = median(s, n);
    out->ratio = median(ratio, n);
    out->startup_ms = median(start, n);
    return true;
}

bool bench_stream_encode(const struct bench_encode_params *p, struct bench_encode_result *out)
{
    memset(out, 0, sizeof(*out));
    out->anchor_ms = out->subject_ms = out->ratio = out->startup_ms = NAN;
    out->anchor_bytes_per_frame = out->subject_bytes_per_frame = NAN;
    struct job j = {.p = p, .width = 2u * p->eye_width};
    j.frame_bytes = (size_t)j.width * p->eye_height * 4u;
    out->have_ffmpeg = find_ffmpeg(j.ffmpeg, sizeof(j.ffmpeg));
    if (!out->have_ffmpeg)
        return true;
    if (p->frames < 2) {
        fprintf(stderr, "bench_stream: the encode comparison needs at least 2 frames\n");
        return false;
    }
    bool ok = temp_path(j.frames_path, sizeof(j.frames_path), ".rgba") &&
              temp_path(j.h264_path, sizeof(j.h264_path), ".h264") && write_frames(&j) &&
              read_frames(&j) && anchor_output_size(&j, out) && rounds(&j, out);
    if (j.frames_path[0] != '\0')
        unlink(j.frames_path);
    if (j.h264_path[0] != '\0')
        unlink(j.h264_path);
    free(j.frames);
    return ok;
}
