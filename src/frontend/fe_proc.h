/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fe_proc — what openrrd reads of other processes in /proc: a process's state and start time,
 * which (with the pid) recognise a child across an openrrd restart without mistaking a reused
 * pid for it. Used by the local host backend and the conversion runner. Any thread; no state.
 */
#ifndef OPENRR_FE_PROC_H
#define OPENRR_FE_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Field 3 (state: 'R', 'S', 'Z', …) and field 22 (start time, clock ticks since boot) of
 * /proc/PID/stat; false when there is no such process. */
bool fe_proc_stat(pid_t pid, char *out_state, uint64_t *out_start);

#endif /* OPENRR_FE_PROC_H */
