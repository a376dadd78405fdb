/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cl_conversions — asset ingestion: start a conversion (PUT with the input and output
 * locations) and read its state (GET). SAS tokens travel only in the request body, which is
 * wiped after the call; they never reach a URL, a log or a message.
 *
 * Threads: entry points on any thread; jobs on the frontend's worker.
 */
#include "cl_internal.h"

#include <jansson.h>
#include <openssl/crypto.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conv_job {
    struct cl_job base;
    rr_conversion_fn done;
    char id[CL_ID_MAX + 1];
    char *body; /* PUT only; holds SAS: wiped */
    struct rr_conversion_properties props;
};

static void conv_run(struct cl_job *job)
{
    struct conv_job *j = (struct conv_job *)job;
    char path[CL_URL_SIZE];
    snprintf(path, sizeof(path), "/accounts/%s/conversions/%s", job->fe->account_id, j->id);
    struct cl_http_response r;
    if (cl_rest(job, j->body != NULL ? "PUT" : "GET", path, j->body, 0, &r) != RR_CLIENT_SUCCESS) {
        return;
    }
    char err[256];
    if (!cl_json_conversion(r.body, r.size, &j->props, err, sizeof(err))) {
        cl_job_fail(job, RR_CLIENT_API_UNAVAILABLE, "conversion %s: %s", j->id, err);
    }
    cl_http_response_free(&r);
}

static void conv_deliver(struct cl_job *job)
{
    struct conv_job *j = (struct conv_job *)job;
    j->done(job->user, job->result, job->result == RR_CLIENT_SUCCESS ? &j->props : NULL);
}

static void conv_fini(struct cl_job *job)
{
    cl_free_secret(((struct conv_job *)job)->body);
}

static const struct cl_job_ops conv_ops = {conv_run, conv_deliver, conv_fini};

static bool set(const char *s)
{
    return s != NULL && s[0] != '\0';
}

/* Add string member @p key when @p value is set; false when out of memory. */
static bool add(json_t *obj, const char *key, const char *value)
{
    if (!set(value)) {
        return true;
    }
    return json_object_set_new(obj, key, json_string(value)) == 0;
}

/* Wipe a SAS inside a json_t before it is freed. */
static void wipe_member(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v)) {
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    }
}

/* The create body, or NULL (out of memory or a string that is not UTF-8). */
static char *settings_body(const struct rr_conversion_input *in,
                           const struct rr_conversion_output *out)
{
    json_t *root = json_object(), *settings = json_object(), *il = json_object(),
           *ol = json_object();
    char *body = NULL;
    if (root == NULL || settings == NULL || il == NULL || ol == NULL) {
        json_decref(root);
        json_decref(settings);
        json_decref(il);
        json_decref(ol);
        return NULL;
    }
    json_object_set_new(settings, "inputLocation", il);
    json_object_set_new(settings, "outputLocation", ol);
    json_object_set_new(root, "settings", settings);
    if (add(il, "storageContainerUri", in->storage_container_uri) &&
        add(il, "relativeInputAssetPath", in->relative_input_asset_path) &&
        add(il, "blobPrefix", in->blob_prefix) &&
        add(il, "storageContainerReadListSas", in->read_sas) &&
        add(ol, "storageContainerUri", out->storage_container_uri) &&
        add(ol, "blobPrefix", out->blob_prefix) &&
        add(ol, "outputAssetFilename", out->output_asset_filename) &&
        add(ol, "storageContainerWriteSas", out->write_sas)) {
        body = json_dumps(root, JSON_COMPACT);
    }
    wipe_member(il, "storageContainerReadListSas");
    wipe_member(ol, "storageContainerWriteSas");
    json_decref(root);
    return body;
}

enum rr_client_result rr_frontend_start_conversion(struct rr_frontend *frontend,
                                                   const char *conversion_id,
                                                   const struct rr_conversion_input *input,
                                                   const struct rr_conversion_output *output,
                                                   rr_conversion_fn done, void *user)
{
    enum rr_client_result r = cl_enter(frontend, done != NULL, "rr_frontend_start_conversion");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    if (input == NULL || output == NULL || !set(input->storage_container_uri) ||
        !set(input->relative_input_asset_path) || !set(output->storage_container_uri)) {
        cl_set_thread_error(frontend->serial,
                            "a conversion needs the input container, the input's relative path "
                            "and the output container");
        return RR_CLIENT_INVALID_PARAM;
    }
    if (conversion_id != NULL && !cl_id_ok(conversion_id)) {
        cl_set_thread_error(frontend->serial, "a conversion id is 1 to 256 of A-Z a-z 0-9 - _");
        return RR_CLIENT_INVALID_PARAM;
    }
    struct conv_job *j = cl_job_new(sizeof(*j), frontend, &conv_ops, user);
    if (j == NULL) {
        return cl_submit(frontend, NULL);
    }
    j->done = done;
    if (conversion_id != NULL) {
        snprintf(j->id, sizeof(j->id), "%s", conversion_id);
    } else if (!cl_random_id(j->id)) {
        free(j);
        cl_set_thread_error(frontend->serial, "no random bytes for a conversion id");
        return RR_CLIENT_OUT_OF_MEMORY;
    }
    j->body = settings_body(input, output);
    if (j->body == NULL) {
        free(j);
        cl_set_thread_error(frontend->serial,
                            "out of memory, or a location string that is not UTF-8");
        return RR_CLIENT_INVALID_PARAM;
    }
    return cl_submit(frontend, &j->base);
}

enum rr_client_result rr_frontend_get_conversion(struct rr_frontend *frontend,
                                                 const char *conversion_id, rr_conversion_fn done,
                                                 void *user)
{
    enum rr_client_result r = cl_enter(frontend, done != NULL, "rr_frontend_get_conversion");
    if (r != RR_CLIENT_SUCCESS) {
        return r;
    }
    if (!cl_id_ok(conversion_id)) {
        cl_set_thread_error(frontend->serial, "a conversion id is 1 to 256 of A-Z a-z 0-9 - _");
        return RR_CLIENT_INVALID_PARAM;
    }
    struct conv_job *j = cl_job_new(sizeof(*j), frontend, &conv_ops, user);
    if (j != NULL) {
        j->done = done;
        snprintf(j->id, sizeof(j->id), "%s", conversion_id);
    }
    return cl_submit(frontend, j != NULL ? &j->base : NULL);
}
