/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status — running figures and the live line of openrr-player. See status.h.
 * Threads: the player's thread only.
 */
#include "status.h"

#include <stdlib.h>
#include <string.h>

/* A terminal line rewritten more often than this flickers without telling more. */
#define REFRESH_US 250000u
/* A log gets a line this often. */
#define SUMMARY_US 5000000u

void status_init(struct status *st, enum status_mode mode, FILE *out, uint64_t now_us)
{
    memset(st, 0, sizeof *st);
    st->mode = mode;
    st->out = out;
    st->start_us = now_us;
    st->refresh_us = now_us;
    st->print_us = now_us;
}

void status_frame(struct status *st, const struct rr_stream_frame *frame)
{
    const struct rr_stream_frame_timing *t = &frame->timing;
    st->frames++;
    if (frame->unknown_pose || t->pose_sampled_us == 0 || t->present_us == 0) {
        return;
    }
    double ms = ((double)t->present_us - (double)t->pose_sampled_us) / 1000.0;
    st->recent[st->recent_next] = (float)ms;
    st->recent_next = (st->recent_next + 1) % STATUS_RECENT;
    if (st->recent_count < STATUS_RECENT) {
        st->recent_count++;
    }
}

static int compare_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void recent_latency(struct status *st)
{
    float sorted[STATUS_RECENT];
    unsigned n = st->recent_count;
    st->fig.have_latency = n > 0;
    if (n == 0) {
        return;
    }
    memcpy(sorted, st->recent, n * sizeof sorted[0]);
    qsort(sorted, n, sizeof sorted[0], compare_float);
    st->fig.latency_median_ms = sorted[(n - 1) / 2];
    st->fig.latency_p99_ms = sorted[(n * 99 + 99) / 100 - 1];
}

static void print_live(struct status *st)
{
    const struct status_figures *f = &st->fig;
    char lat[32];
    if (f->have_latency) {
        snprintf(lat, sizeof lat, "%5.1f/%5.1f", f->latency_median_ms, f->latency_p99_ms);
    } else {
        snprintf(lat, sizeof lat, "%5s/%5s", "-", "-");
    }
    /* Fixed widths keep the figures in place; erasing to the end of the line removes the
     * tail of a longer previous line. Short enough for an 80-column terminal. */
    fprintf(st->out,
            "\r%5.1f fps | lat %s ms | %5.1f Mbps | rx %llu sk %llu dc %llu | rtt %.1f ms\033[K",
            f->fps, lat, f->mbps, (unsigned long long)f->received, (unsigned long long)f->skipped,
            (unsigned long long)f->discarded, f->rtt_ms);
    fflush(st->out);
    st->line_open = true;
}

static void print_summary(struct status *st, uint64_t now_us)
{
    const struct status_figures *f = &st->fig;
    double secs = (double)(now_us - st->start_us) / 1e6;
    if (f->have_latency) {
        fprintf(st->out,
                "openrr-player: [%7.1f s] %.1f fps, latency %.1f ms median / %.1f ms p99, "
                "%.2f Mbps, received %llu, skipped %llu, discarded %llu, rtt %.2f ms\n",
                secs, f->fps, f->latency_median_ms, f->latency_p99_ms, f->mbps,
                (unsigned long long)f->received, (unsigned long long)f->skipped,
                (unsigned long long)f->discarded, f->rtt_ms);
    } else {
        fprintf(st->out,
                "openrr-player: [%7.1f s] %.1f fps, %.2f Mbps, received %llu, skipped %llu, "
                "discarded %llu, rtt %.2f ms\n",
                secs, f->fps, f->mbps, (unsigned long long)f->received,
                (unsigned long long)f->skipped, (unsigned long long)f->discarded, f->rtt_ms);
    }
    fflush(st->out);
}

bool status_tick(struct status *st, uint64_t now_us, const struct rr_stream_player_totals *totals)
{
    if (now_us < st->refresh_us + REFRESH_US) {
        return false;
    }
    uint64_t bytes = totals->video_bytes_received;
    unsigned k = st->span_next;
    st->span_frames[k] = st->frames;
    st->span_bytes[k] = bytes >= st->bytes ? bytes - st->bytes : bytes;
    st->span_us[k] = now_us - st->refresh_us;
    st->span_next = (k + 1) % STATUS_SPANS;
    uint64_t frames = 0, delta = 0, us = 0;
    for (unsigned i = 0; i < STATUS_SPANS; i++) {
        frames += st->span_frames[i];
        delta += st->span_bytes[i];
        us += st->span_us[i];
    }
    double secs = (double)us / 1e6;
    st->fig.fps = (double)frames / secs;
    st->fig.mbps = (double)delta * 8.0 / 1e6 / secs;
    st->fig.received = totals->video_frames_received;
    st->fig.skipped = totals->video_frames_skipped;
    st->fig.discarded = totals->video_frames_discarded;
    st->fig.rtt_ms = (double)totals->clock_rtt_us / 1000.0;
    recent_latency(st);
    st->frames = 0;
    st->bytes = bytes;
    st->refresh_us = now_us;

    if (st->mode == STATUS_LIVE) {
        print_live(st);
    } else if (st->mode == STATUS_SUMMARY && now_us >= st->print_us + SUMMARY_US) {
        st->print_us = now_us;
        print_summary(st, now_us);
    }
    return true;
}

const struct status_figures *status_figures(const struct status *st)
{
    return &st->fig;
}

void status_finish(struct status *st)
{
    if (st->line_open) {
        fputc('\n', st->out);
        fflush(st->out);
        st->line_open = false;
    }
}
