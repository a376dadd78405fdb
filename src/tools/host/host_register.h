/* SPDX-License-Identifier: Apache-2.0 */
/*
 * host_register — a session host tells openrrd that it listens (docs/openrrd.md, "Internal
 * routes"): POST {"handshakePort":P,"transportPort":T,"inspectorPort":I} to --register-url with
 * `Authorization: Bearer <registration secret>`. openrrd then makes the session Ready.
 *
 * Threads: the main thread (once, when the listener is up). libcurl's global state is set up by
 * host_register_global_init() before any other thread starts.
 */
#ifndef RR_HOST_REGISTER_H
#define RR_HOST_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* All attempts together take at most this long. */
#define HOST_REGISTER_TOTAL_MS 10000

/* curl_global_init; false when libcurl cannot start. Main thread, before other threads. */
bool host_register_global_init(void);
void host_register_global_cleanup(void);

/* POST the ports (@p inspector_port < 0: none, left out) to @p url with @p secret as the bearer
 * token. Retries connection failures, 408, 429 and 5xx answers with growing pauses (250 ms
 * doubling up to 2 s) until HOST_REGISTER_TOTAL_MS have passed; any other 4xx answer is final.
 * Returns true on a 2xx answer; otherwise false with one line in @p err saying why (the URL,
 * the HTTP status and openrrd's error message, or the connection error; never the secret). */
bool host_register(const char *url, const char *secret, uint16_t port, uint16_t transport_port,
                   int inspector_port, char *err, size_t err_size);

#endif
