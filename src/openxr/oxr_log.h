/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oxr_log — the runtime's few lifecycle lines on stderr ("openrr_openxr: player connected …"):
 * an OpenXR runtime lives inside someone else's program, so it says when it waits for, gets or
 * loses its player and otherwise keeps quiet. OPENRR_LOG=error silences these; everything
 * finer goes through u_log (OPENRR_LOG=info|debug).
 *
 * Threads: any; one write(2) per line.
 */
#ifndef OXR_LOG_H
#define OXR_LOG_H

void oxr_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
