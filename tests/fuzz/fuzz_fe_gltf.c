/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_fe_gltf — libFuzzer target for the external files a glTF names
 * (src/frontend/fe_conv_fetch.c): the input is a model, written as model.glb when it starts
 * with the GLB magic "glTF" and as model.gltf otherwise, into a file:// input container under a
 * temporary storage root, and fe_conv_fetch checks it as a conversion's worker does before
 * openrr-convert runs: the GLB header and its JSON chunk, the glTF's JSON, the uri of every
 * entry of buffers, images and shaders (arrays in glTF 2, objects in glTF 1; data: URIs
 * skipped; ".", "..", empty segments, escapes, schemes, queries), at most 256 distinct files,
 * each resolved with realpath under the root.
 * The container holds a.bin, tex/b.png, "sp ace.bin", a directory dir/ and link.bin, a symbolic
 * link to a file outside the root.
 *
 * Properties: the stage ends OK or FAILED (never ABANDONED: nothing stops it); FAILED says so
 * with one of the documented codes and a message; OK leaves no code, the model's real path in
 * input_path, and — the point of the check — every external file the glTF names, as
 * openrr-convert will open it (percent-decoded, relative to the model), lies under the storage
 * root when it resolves at all (a restatement with its own decoding and realpath decides).
 * Single-threaded: libFuzzer calls LLVMFuzzerTestOneInput from one thread.
 */
#include "fe_conv_internal.h"

#include "fe_log.h"

#include "fuzz_check.h"
#include "fuzz_tmpdir.h"

#include <jansson.h>

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_dir[PATH_MAX];
static char storage_root[PATH_MAX];
static char models[PATH_MAX];
static struct fe_config cfg;
static struct fe_conv_settings settings_gltf, settings_glb;
static atomic_bool stopping;

static void cleanup(void)
{
    fe_conv_settings_clear(&settings_gltf);
    fe_conv_settings_clear(&settings_glb);
    fe_config_clear(&cfg);
    fuzz_tmpdir_remove(tmp_dir);
}

static void make_file(const char *rel)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp_dir, rel);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL && fputs("data", f) >= 0 && fclose(f) == 0);
}

static void parse_settings(const char *model, struct fe_conv_settings *out)
{
    char json[PATH_MAX * 2 + 256];
    snprintf(json, sizeof json,
             "{\"inputLocation\":{\"storageContainerUri\":\"file://%s\","
             "\"relativeInputAssetPath\":\"%s\"},"
             "\"outputLocation\":{\"storageContainerUri\":\"file://%s\"}}",
             models, model, storage_root);
    char target[160], message[512];
    CHECK(fe_conv_settings_parse(json, out, target, sizeof target, message, sizeof message));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fe_log_configure(false, FE_LOG_ERROR);
    fuzz_tmpdir_make("fuzz_fe_gltf", tmp_dir);
    atexit(cleanup);
    static const char *const dirs[] = {"storage", "storage/models", "storage/models/tex",
                                       "storage/models/dir", "outside"};
    char path[PATH_MAX], target[PATH_MAX];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", tmp_dir, dirs[i]);
        CHECK(mkdir(path, 0700) == 0);
    }
    make_file("storage/models/a.bin");
    make_file("storage/models/tex/b.png");
    make_file("storage/models/sp ace.bin");
    make_file("storage/a.bin");
    make_file("outside/secret.bin");
    snprintf(target, sizeof target, "%s/outside/secret.bin", tmp_dir);
    snprintf(path, sizeof path, "%s/storage/models/link.bin", tmp_dir);
    CHECK(symlink(target, path) == 0);
    snprintf(path, sizeof path, "%s/storage", tmp_dir);
    CHECK(realpath(path, storage_root) != NULL);
    snprintf(models, sizeof models, "%s/models", storage_root);
    fe_config_defaults(&cfg);
    cfg.storage_root = strdup(storage_root);
    CHECK(cfg.storage_root != NULL);
    parse_settings("model.gltf", &settings_gltf);
    parse_settings("model.glb", &settings_glb);
    return 0;
}

/* ---- the restatement --------------------------------------------------------------------- */

/* The JSON openrrd reads: the whole file, or a GLB's first chunk when its header is one
 * openrrd understands (else NULL: nothing to check). */
static const char *model_json(const uint8_t *data, size_t size, bool glb, size_t *out_len)
{
    if (!glb) {
        *out_len = size;
        return (const char *)data;
    }
    if (size < 20 || memcmp(data + 16, "JSON", 4) != 0) {
        return NULL;
    }
    size_t len =
        (size_t)data[12] | (size_t)data[13] << 8 | (size_t)data[14] << 16 | (size_t)data[15] << 24;
    if (len > size - 20) {
        return NULL;
    }
    *out_len = len;
    return (const char *)data + 20;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Whether the file @p uri names next to the model, its escapes decoded the way a URI reader
 * does, lies under the root when it exists at all. */
static bool safe_reference(const char *uri)
{
    char decoded[PATH_MAX];
    size_t o = 0;
    for (size_t i = 0; uri[i] != '\0'; i++) {
        if (o + 1 >= sizeof decoded) {
            return false;
        }
        if (uri[i] == '%' && hex_value((unsigned char)uri[i + 1]) >= 0 &&
            hex_value((unsigned char)uri[i + 2]) >= 0) {
            decoded[o++] = (char)(hex_value((unsigned char)uri[i + 1]) * 16 +
                                  hex_value((unsigned char)uri[i + 2]));
            i += 2;
        } else {
            decoded[o++] = uri[i];
        }
    }
    decoded[o] = '\0';
    if (strlen(decoded) != o) {
        return false; /* a %00 */
    }
    char path[PATH_MAX * 2], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", models, decoded);
    if (realpath(path, real) == NULL) {
        return true; /* nothing there ("a.bin//", which openrrd reads as a.bin): no open works */
    }
    size_t n = strlen(storage_root);
    return strncmp(real, storage_root, n) == 0 && real[n] == '/';
}

static void check_accepted(const uint8_t *data, size_t size, bool glb)
{
    size_t len = 0;
    const char *text = model_json(data, size, glb, &len);
    if (text == NULL) {
        return;
    }
    json_t *root = json_loadb(text, len, 0, NULL);
    CHECK(root != NULL); /* invalid JSON is refused */
    /* glTF 2 lists files in arrays, glTF 1 in objects keyed by id (shaders too). */
    static const char *const lists[] = {"buffers", "images", "shaders"};
    for (size_t l = 0; l < 3; l++) {
        json_t *list = json_object_get(root, lists[l]);
        CHECK(list == NULL || json_is_array(list) || json_is_object(list));
        json_t *items = json_is_object(list) ? json_array() : json_incref(list);
        const char *key;
        json_t *value;
        json_object_foreach(list, key, value)
        {
            CHECK(json_array_append(items, value) == 0);
        }
        size_t i;
        json_t *item;
        json_array_foreach(items, i, item)
        {
            json_t *u = json_object_get(item, "uri");
            if (u == NULL) {
                continue;
            }
            const char *uri = json_string_value(u);
            CHECK(uri != NULL);
            if (strncasecmp(uri, "data:", 5) == 0) {
                continue;
            }
            if (!safe_reference(uri)) {
                fprintf(stderr, "accepted an external file outside the root: \"%s\"\n", uri);
                CHECK(!"a glTF external file resolves outside the root");
            }
        }
        json_decref(items);
    }
    json_decref(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bool glb = size >= 4 && memcmp(data, "glTF", 4) == 0;
    char model[PATH_MAX + 16];
    snprintf(model, sizeof model, "%s/%s", models, glb ? "model.glb" : "model.gltf");
    int fd = open(model, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, data, size) == (ssize_t)size && close(fd) == 0);

    struct fe_conv_job job;
    memset(&job, 0, sizeof job);
    job.account_id = "fuzz";
    job.id = "gltf";
    job.cfg = &cfg;
    job.storage_root = storage_root;
    job.stopping = &stopping;
    job.s = glb ? settings_glb : settings_gltf; /* borrowed: never cleared here */
    enum fe_conv_stage_result r = fe_conv_fetch(&job);
    if (getenv("FUZZ_VERBOSE") != NULL) { /* for seeds: each outcome on stderr */
        fprintf(stderr, "%s: %s %s\n", glb ? "glb" : "gltf",
                r == FE_CONV_STAGE_OK ? "OK" : job.code, job.message);
    }
    CHECK(r == FE_CONV_STAGE_OK || r == FE_CONV_STAGE_FAILED);
    CHECK(memchr(job.code, '\0', sizeof job.code) && memchr(job.message, '\0', sizeof job.message));
    if (r == FE_CONV_STAGE_FAILED) {
        static const char *const codes[] = {"InvalidInput", "InputNotFound", "InputUnreadable",
                                            "InvalidInputLocation", "InputTooLarge"};
        bool known = false;
        for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            known = known || strcmp(job.code, codes[i]) == 0;
        }
        CHECK(known && job.message[0] != '\0');
    } else {
        CHECK(job.code[0] == '\0');
        char real[PATH_MAX];
        CHECK(realpath(model, real) != NULL && strcmp(job.input_path, real) == 0);
        check_accepted(data, size, glb);
    }
    return 0;
}
