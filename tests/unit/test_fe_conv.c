/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of openrrd's conversion runner (src/frontend/fe_conv*.c) against the real SQLite
 * store and the real openrr-convert, with Debian's assimp test models: a file:// conversion
 * end to end; an http:// one through a local server that demands a SAS and serves a .gltf
 * with an external buffer and texture (the SAS never shows in the record or the logs); a
 * missing, a corrupt and an escaping input; an unsupported output; the memory limit; a
 * runner destroyed mid-conversion and requeued at the next start; a surviving child of a
 * previous run killed at start-up; and fe_conv_check_settings on hostile settings.
 */
#include "fe_config.h"
#include "fe_conv.h"
#include "fe_store.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOX_DIR "/usr/share/assimp/models/glTF2/BoxTextured-glTF"
#define ACCOUNT "0f8fad5b-d9cb-469f-a165-70867728950e"
#define SIG "s3cr3t-Sig"
#define SAS "sv=2021-08-06&sr=c&sig=" SIG

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

static char g_tmp[256];
static char g_data[512];
static char g_storage[512];
static char g_in[600];  /* <storage>/in: the input container */
static char g_out[600]; /* <storage>/out: the output container */
static char g_web[512]; /* what the http server serves */
static struct fe_store *g_store;
static struct fe_config g_cfg;
static bool g_have_models;

/* ---- helpers ------------------------------------------------------------------------------ */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    FILE *out = fopen(to, "wb");
    bool ok = in != NULL && out != NULL;
    char buf[65536];
    size_t n;
    while (ok && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
        ok = fwrite(buf, 1, n, out) == n;
    }
    if (in != NULL) {
        fclose(in);
    }
    if (out != NULL) {
        ok = fclose(out) == 0 && ok;
    }
    return ok;
}

static bool write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static bool file_contains(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return false;
    }
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, needle) != NULL;
}

static void mkdirs(const char *fmt, ...)
{
    char path[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    for (char *s = path + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0700);
        *s = '/';
    }
    mkdir(path, 0700);
}

/* Box: BoxTextured.gltf with its .bin and .png into @p dir. */
static bool put_box(const char *dir)
{
    static const char *const files[] = {"BoxTextured.gltf", "BoxTextured0.bin",
                                        "CesiumLogoFlat.png"};
    mkdirs("%s", dir);
    for (size_t i = 0; i < 3; i++) {
        char from[1024];
        char to[1024];
        snprintf(from, sizeof(from), "%s/%s", BOX_DIR, files[i]);
        snprintf(to, sizeof(to), "%s/%s", dir, files[i]);
        if (!copy_file(from, to)) {
            return false;
        }
    }
    return true;
}

/* A binary PLY grid of n×n vertices: big enough (n = 512: ~10 MB, 0.5 M triangles) that
 * openrr-convert needs more than 64 MiB. */
static bool write_ply_grid(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        return false;
    }
    fprintf(f,
            "ply\nformat binary_little_endian 1.0\nelement vertex %d\nproperty float x\n"
            "property float y\nproperty float z\nelement face %d\n"
            "property list uchar int vertex_indices\nend_header\n",
            n * n, (n - 1) * (n - 1) * 2);
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++) {
            float v[3] = {(float)x, (float)y, (float)((x * y) % 7) * 0.01f};
            fwrite(v, sizeof(v), 1, f);
        }
    }
    for (int y = 0; y < n - 1; y++) {
        for (int x = 0; x < n - 1; x++) {
            int32_t a = y * n + x;
            unsigned char three = 3;
            int32_t t1[3] = {a, a + 1, a + n};
            int32_t t2[3] = {a + 1, a + n + 1, a + n};
            fwrite(&three, 1, 1, f);
            fwrite(t1, sizeof(t1), 1, f);
            fwrite(&three, 1, 1, f);
            fwrite(t2, sizeof(t2), 1, f);
        }
    }
    return fclose(f) == 0;
}

/* Canonical settings JSON. NULL fields are left out. */
static char *settings(const char *in_container, const char *in_prefix, const char *in_path,
                      const char *sas, const char *out_container, const char *out_prefix,
                      const char *out_name)
{
    json_t *in = json_object();
    json_t *out = json_object();
    json_object_set_new(in, "storageContainerUri", json_string(in_container));
    json_object_set_new(in, "relativeInputAssetPath", json_string(in_path));
    if (in_prefix != NULL) {
        json_object_set_new(in, "blobPrefix", json_string(in_prefix));
    }
    if (sas != NULL) {
        json_object_set_new(in, "storageContainerReadListSas", json_string(sas));
    }
    json_object_set_new(out, "storageContainerUri", json_string(out_container));
    if (out_prefix != NULL) {
        json_object_set_new(out, "blobPrefix", json_string(out_prefix));
    }
    if (out_name != NULL) {
        json_object_set_new(out, "outputAssetFilename", json_string(out_name));
    }
    json_t *root = json_object();
    json_object_set_new(root, "inputLocation", in);
    json_object_set_new(root, "outputLocation", out);
    char *s = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(root);
    return s;
}

static char *file_uri(const char *path)
{
    static char uris[4][1100];
    static int next;
    char *u = uris[next++ % 4];
    if ((size_t)snprintf(u, 1100, "file://%s", path) >= 1100) {
        fail_msg("path too long");
    }
    return u;
}

static void create_conversion(const char *id, char *settings_json)
{
    struct fe_conversion_record rec;
    memset(&rec, 0, sizeof(rec));
    snprintf(rec.account_id, sizeof(rec.account_id), "%s", ACCOUNT);
    snprintf(rec.id, sizeof(rec.id), "%s", id);
    rec.settings_json = settings_json;
    rec.status = FE_CONV_NOT_STARTED;
    rec.created = (int64_t)time(NULL);
    char err[256];
    assert_int_equal(g_store->conversion_create(g_store, &rec, NULL, err, sizeof(err)),
                     FE_STORE_OK);
    free(settings_json);
}

static void get_conversion(const char *id, struct fe_conversion_record *out)
{
    assert_int_equal(g_store->conversion_get(g_store, ACCOUNT, id, out), FE_STORE_OK);
}

/* Wait until @p id is Succeeded, Failed or Cancelled; its record into @p out. */
static void wait_done(const char *id, int timeout_s, struct fe_conversion_record *out)
{
    for (int i = 0; i < timeout_s * 20; i++) {
        get_conversion(id, out);
        if (out->status >= FE_CONV_CANCELLED) {
            return;
        }
        fe_conversion_record_clear(out);
        sleep_ms(50);
    }
    get_conversion(id, out);
    fail_msg("conversion %s still %s after %d s", id, fe_conversion_status_str(out->status),
             timeout_s);
}

struct events {
    pthread_mutex_t lock;
    int count;
    int max_progress;
    int succeeded;
    int progress_writes; /* Running records with 0 < progress < 100 */
    int64_t last_progress_ms;
    int64_t min_gap_ms; /* the shortest time between two of them */
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_event(void *user, const struct fe_conversion_record *rec)
{
    struct events *e = user;
    pthread_mutex_lock(&e->lock);
    e->count++;
    if (rec->progress > e->max_progress) {
        e->max_progress = rec->progress;
    }
    if (rec->status == FE_CONV_SUCCEEDED) {
        e->succeeded++;
    }
    if (rec->status == FE_CONV_RUNNING && rec->progress > 0 && rec->progress < 100) {
        int64_t now = mono_ms();
        if (e->progress_writes > 0 &&
            (e->min_gap_ms == 0 || now - e->last_progress_ms < e->min_gap_ms)) {
            e->min_gap_ms = now - e->last_progress_ms;
        }
        e->progress_writes++;
        e->last_progress_ms = now;
    }
    pthread_mutex_unlock(&e->lock);
}

/* Run @p id with a fresh runner and return its final record. */
static void run_one(const char *id, struct fe_conversion_record *out, struct events *ev)
{
    struct fe_conv_runner *runner = NULL;
    char err[256];
    assert_true(fe_conv_runner_create(&g_cfg, g_store, on_event, ev, &runner, err, sizeof(err)));
    fe_conv_runner_wake(runner);
    wait_done(id, 120, out);
    fe_conv_runner_destroy(&runner);
    assert_null(runner);
}

static void expect_failed(const char *id, const char *code, const char *in_message)
{
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one(id, &rec, &ev);
    print_message("  %s: %s: %s: %s\n", id, fe_conversion_status_str(rec.status), rec.error_code,
                  rec.error_message);
    assert_int_equal(rec.status, FE_CONV_FAILED);
    assert_string_equal(rec.error_code, code);
    if (in_message != NULL) {
        assert_non_null(strstr(rec.error_message, in_message));
    }
    assert_string_equal(rec.output_uri, "");
    assert_int_equal(rec.pid, 0);
    assert_true(rec.finished > 0);
    fe_conversion_record_clear(&rec);
}

/* ---- the http server --------------------------------------------------------------------- */

static pid_t g_http_pid;
static uint16_t g_http_port;
static char g_http_log[600];

static const char SERVER_PY[] =
    "import http.server, sys, time, urllib.parse\n"
    "root, port, sig, log = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]\n"
    "class H(http.server.SimpleHTTPRequestHandler):\n"
    "    def __init__(self, *a, **k):\n"
    "        super().__init__(*a, directory=root, **k)\n"
    "    def do_GET(self):\n"
    "        u = urllib.parse.urlsplit(self.path)\n"
    "        ok = urllib.parse.parse_qs(u.query).get('sig') == [sig]\n"
    "        with open(log, 'a') as f:\n"
    "            f.write(u.path + (' ok' if ok else ' denied') + '\\n')\n"
    "        if '/slow/' in u.path:\n"
    "            time.sleep(30)\n"
    "        if not ok:\n"
    "            self.send_error(403)\n"
    "            return\n"
    "        super().do_GET()\n"
    "    def log_message(self, *a):\n"
    "        pass\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()\n";

static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(s, (struct sockaddr *)&a, &len) == 0) {
        port = ntohs(a.sin_port);
    }
    close(s);
    return port;
}

static bool port_open(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(port)};
    bool ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(s);
    return ok;
}

static bool http_start(void)
{
    char script[600];
    char port[16];
    snprintf(script, sizeof(script), "%s/server.py", g_tmp);
    snprintf(g_http_log, sizeof(g_http_log), "%s/requests.log", g_tmp);
    if (!write_text(script, SERVER_PY)) {
        return false;
    }
    g_http_port = free_port();
    snprintf(port, sizeof(port), "%u", g_http_port);
    g_http_pid = fork();
    if (g_http_pid == 0) {
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        execlp("python3", "python3", script, g_web, port, SIG, g_http_log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && g_http_pid > 0; i++) {
        if (port_open(g_http_port)) {
            return true;
        }
        int status;
        if (waitpid(g_http_pid, &status, WNOHANG) == g_http_pid) {
            g_http_pid = 0;
            return false;
        }
        sleep_ms(50);
    }
    return false;
}

static void http_stop(void)
{
    if (g_http_pid > 0) {
        kill(g_http_pid, SIGTERM);
        waitpid(g_http_pid, NULL, 0);
        g_http_pid = 0;
    }
}

/* ---- fixture ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof(g_tmp), "/tmp/test_fe_conv_XXXXXX");
    if (mkdtemp(g_tmp) == NULL) {
        return -1;
    }
    snprintf(g_data, sizeof(g_data), "%s/data", g_tmp);
    snprintf(g_storage, sizeof(g_storage), "%s/storage", g_tmp);
    snprintf(g_in, sizeof(g_in), "%s/in", g_storage);
    snprintf(g_out, sizeof(g_out), "%s/out", g_storage);
    snprintf(g_web, sizeof(g_web), "%s/web", g_tmp);
    mkdirs("%s", g_data);
    mkdirs("%s", g_in);
    mkdirs("%s", g_out);
    mkdirs("%s", g_web);
    g_have_models = access(BOX_DIR "/BoxTextured.gltf", R_OK) == 0;
    if (g_have_models && (!put_box(g_in) || !put_box(g_web))) {
        return -1;
    }
    char db[600];
    char err[256];
    snprintf(db, sizeof(db), "%s/openrr.db", g_data);
    if (fe_store_sqlite_open(db, &g_store, err, sizeof(err)) != FE_STORE_OK) {
        fprintf(stderr, "store: %s\n", err);
        return -1;
    }
    memset(&g_cfg, 0, sizeof(g_cfg));
    g_cfg.data_dir = g_data;
    g_cfg.storage_root = g_storage;
    g_cfg.conversion_workers = 2;
    g_cfg.max_queued_conversions = 64;
    /* ASan's shadow memory needs terabytes of address space: no RLIMIT_AS under it. */
    g_cfg.conversion_memory_bytes = SANITIZED ? 0 : 4ull << 30;
    g_cfg.conversion_cpu_seconds = 600;
    g_cfg.conversion_file_bytes = 1ull << 30;
    g_cfg.max_download_bytes = 64ull << 20;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    http_stop();
    fe_store_destroy(&g_store);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

#define NEED_MODELS()                                                                              \
    do {                                                                                           \
        if (!g_have_models) {                                                                      \
            print_message("assimp-testmodels not installed: skipped\n");                           \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- file:// ------------------------------------------------------------------------------ */

static void test_file_success(void **state)
{
    (void)state;
    NEED_MODELS();
    create_conversion("file-ok", settings(file_uri(g_in), "", "BoxTextured.gltf", NULL,
                                          file_uri(g_out), "models/", NULL));
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one("file-ok", &rec, &ev);
    print_message("  %s %s %s\n", fe_conversion_status_str(rec.status), rec.error_code,
                  rec.error_message);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    assert_int_equal(rec.progress, 100);
    assert_int_equal(rec.attempts, 1);
    assert_int_equal(rec.pid, 0);
    assert_string_equal(rec.error_code, "");
    assert_true(rec.started > 0 && rec.finished >= rec.started);
    char want[1024];
    snprintf(want, sizeof(want), "file://%s/models/BoxTextured.rrasset", g_out);
    assert_string_equal(rec.output_uri, want);
    /* The three outputs, and no temporary file left beside them. */
    char path[1024];
    static const char *const outs[] = {"BoxTextured.rrasset", "BoxTextured.info.json",
                                       "BoxTextured.result.json"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/models/%s", g_out, outs[i]);
        assert_true(exists(path));
    }
    snprintf(path, sizeof(path), "%s/models", g_out);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    int entries = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            assert_true(e->d_name[0] != '.');
            entries++;
        }
    }
    closedir(d);
    assert_int_equal(entries, 3);
    /* The work directory keeps only the log. */
    snprintf(path, sizeof(path), "%s/conversions/%s/file-ok/convert.log", g_data, ACCOUNT);
    assert_true(exists(path));
    snprintf(path, sizeof(path), "%s/conversions/%s/file-ok/out", g_data, ACCOUNT);
    assert_false(exists(path));
    /* The callback saw the claim and the end. */
    assert_true(ev.count >= 2);
    assert_int_equal(ev.max_progress, 100);
    assert_int_equal(ev.succeeded, 1);
    fe_conversion_record_clear(&rec);
}

/* An explicit output name in a new sub-folder; the other two outputs follow its name. */
static void test_file_output_name(void **state)
{
    (void)state;
    NEED_MODELS();
    create_conversion("file-named", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                             file_uri(g_out), "named-", "sub/dir/Box Car.rrasset"));
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one("file-named", &rec, &ev);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    char want[1024];
    snprintf(want, sizeof(want), "file://%s/named-sub/dir/Box%%20Car.rrasset", g_out);
    assert_string_equal(rec.output_uri, want);
    char path[1024];
    snprintf(path, sizeof(path), "%s/named-sub/dir/Box Car.info.json", g_out);
    assert_true(exists(path));
    snprintf(path, sizeof(path), "%s/named-sub/dir/Box Car.result.json", g_out);
    assert_true(exists(path));
    fe_conversion_record_clear(&rec);
}

static void test_missing_input(void **state)
{
    (void)state;
    create_conversion("missing", settings(file_uri(g_in), "nowhere/", "nothing.glb", NULL,
                                          file_uri(g_out), NULL, NULL));
    expect_failed("missing", "InputNotFound", "nowhere/nothing.glb");
}

static void test_corrupt_input(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/broken.glb", g_in);
    assert_true(write_text(path, "glTF this is not a binary glTF at all, just some garbage"));
    create_conversion(
        "corrupt", settings(file_uri(g_in), NULL, "broken.glb", NULL, file_uri(g_out), NULL, NULL));
    expect_failed("corrupt", "InvalidInput", NULL);
    /* As the managed service did: result.json lands in the output container on failure. */
    snprintf(path, sizeof(path), "%s/broken.result.json", g_out);
    assert_true(exists(path));
    assert_true(file_contains(path, "InvalidInput"));
    snprintf(path, sizeof(path), "%s/broken.rrasset", g_out);
    assert_false(exists(path));
}

/* A symbolic link inside the container that leads out of the storage root, and a glTF whose
 * buffer climbs out of its folder: refused before openrr-convert reads anything. */
static void test_escaping_input(void **state)
{
    (void)state;
    NEED_MODELS();
    char path[1024];
    snprintf(path, sizeof(path), "%s/escape.gltf", g_in);
    assert_int_equal(symlink(BOX_DIR "/BoxTextured.gltf", path), 0);
    create_conversion("escape-link", settings(file_uri(g_in), NULL, "escape.gltf", NULL,
                                              file_uri(g_out), NULL, NULL));
    expect_failed("escape-link", "InvalidInputLocation", "escape.gltf");

    snprintf(path, sizeof(path), "%s/climb.gltf", g_in);
    assert_true(write_text(path, "{\"asset\":{\"version\":\"2.0\"},\"buffers\":[{\"byteLength\":4,"
                                 "\"uri\":\"../../data/openrr.db\"}]}"));
    create_conversion("escape-buffer", settings(file_uri(g_in), NULL, "climb.gltf", NULL,
                                                file_uri(g_out), NULL, NULL));
    expect_failed("escape-buffer", "InvalidInput", "../../data/openrr.db");
}

static void test_output_not_supported(void **state)
{
    (void)state;
    create_conversion("http-out", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                           "https://example.invalid/container", NULL, NULL));
    expect_failed("http-out", "OutputContainerNotSupported", "file://");
}

/* ---- http:// ------------------------------------------------------------------------------- */

static void test_http_success(void **state)
{
    (void)state;
    NEED_MODELS();
    char dir[700];
    snprintf(dir, sizeof(dir), "%s/container/models", g_web);
    assert_true(put_box(dir));
    if (!http_start()) {
        print_message("python3 not available: skipped\n");
        skip();
    }
    char container[128];
    snprintf(container, sizeof(container), "http://127.0.0.1:%u/container/", g_http_port);
    create_conversion("http-ok", settings(container, "models/", "BoxTextured.gltf", "?" SAS,
                                          file_uri(g_out), "from-http/", NULL));
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one("http-ok", &rec, &ev);
    print_message("  %s %s %s\n", fe_conversion_status_str(rec.status), rec.error_code,
                  rec.error_message);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    char want[1024];
    snprintf(want, sizeof(want), "file://%s/from-http/BoxTextured.rrasset", g_out);
    assert_string_equal(rec.output_uri, want);
    assert_null(strstr(rec.output_uri, SIG));
    /* The model, its external buffer and its texture, each with the SAS. */
    assert_true(file_contains(g_http_log, "/container/models/BoxTextured.gltf ok"));
    assert_true(file_contains(g_http_log, "/container/models/BoxTextured0.bin ok"));
    assert_true(file_contains(g_http_log, "/container/models/CesiumLogoFlat.png ok"));
    assert_false(file_contains(g_http_log, "denied"));
    char path[1024];
    snprintf(path, sizeof(path), "%s/conversions/%s/http-ok/convert.log", g_data, ACCOUNT);
    assert_true(exists(path));
    assert_false(file_contains(path, SIG));
    /* Downloads are gone once published. */
    snprintf(path, sizeof(path), "%s/conversions/%s/http-ok/in", g_data, ACCOUNT);
    assert_false(exists(path));
    fe_conversion_record_clear(&rec);

    /* A missing blob, and a wrong SAS: clear errors that never quote the SAS. */
    create_conversion("http-missing", settings(container, "models/", "Nothing.gltf", SAS,
                                               file_uri(g_out), NULL, NULL));
    expect_failed("http-missing", "InputNotFound", "HTTP 404");
    get_conversion("http-missing", &rec);
    assert_null(strstr(rec.error_message, SIG));
    assert_null(strstr(rec.error_message, "sig="));
    assert_non_null(strstr(rec.error_message, "/container/models/Nothing.gltf"));
    fe_conversion_record_clear(&rec);

    create_conversion("http-denied", settings(container, "models/", "BoxTextured.gltf",
                                              "sv=1&sig=wrong", file_uri(g_out), NULL, NULL));
    expect_failed("http-denied", "InputUnreadable", "HTTP 403");
    get_conversion("http-denied", &rec);
    assert_null(strstr(rec.error_message, "wrong"));
    fe_conversion_record_clear(&rec);

    /* Over the download limit. */
    uint64_t saved = g_cfg.max_download_bytes;
    g_cfg.max_download_bytes = 1000;
    create_conversion("http-large", settings(container, "models/", "BoxTextured.gltf", SAS,
                                             file_uri(g_out), NULL, NULL));
    expect_failed("http-large", "InputTooLarge", "1000 bytes");
    g_cfg.max_download_bytes = saved;

    /* A runner destroyed during a download (the server takes 30 s to answer) stops at once
     * and leaves the conversion Running. */
    create_conversion("http-stop", settings(container, "slow/", "BoxTextured.gltf", SAS,
                                            file_uri(g_out), NULL, NULL));
    struct fe_conv_runner *runner = NULL;
    char err[256];
    assert_true(fe_conv_runner_create(&g_cfg, g_store, NULL, NULL, &runner, err, sizeof(err)));
    fe_conv_runner_wake(runner);
    for (int i = 0; i < 100 && !file_contains(g_http_log, "/container/slow/"); i++) {
        sleep_ms(50);
    }
    assert_true(file_contains(g_http_log, "/container/slow/BoxTextured.gltf ok"));
    int64_t t0 = mono_ms();
    fe_conv_runner_destroy(&runner);
    assert_true(mono_ms() - t0 < 5000);
    get_conversion("http-stop", &rec);
    assert_int_equal(rec.status, FE_CONV_RUNNING);
    /* Tidy up for the tests after this one. */
    rec.status = FE_CONV_FAILED;
    snprintf(rec.error_code, sizeof(rec.error_code), "TestStopped");
    assert_int_equal(g_store->conversion_update(g_store, &rec, FE_CONV_RUNNING), FE_STORE_OK);
    fe_conversion_record_clear(&rec);
    http_stop();
}

/* ---- limits and restarts ----------------------------------------------------------------- */

static void test_memory_limit(void **state)
{
    (void)state;
    if (SANITIZED) {
        print_message("no address-space limit under AddressSanitizer: skipped\n");
        skip();
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/grid.ply", g_in);
    assert_true(write_ply_grid(path, 512));
    create_conversion(
        "memory", settings(file_uri(g_in), NULL, "grid.ply", NULL, file_uri(g_out), NULL, NULL));
    uint64_t saved = g_cfg.conversion_memory_bytes;
    g_cfg.conversion_memory_bytes = 64ull << 20;
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one("memory", &rec, &ev);
    g_cfg.conversion_memory_bytes = saved;
    print_message("  %s: %s: %s\n", fe_conversion_status_str(rec.status), rec.error_code,
                  rec.error_message);
    assert_int_equal(rec.status, FE_CONV_FAILED);
    assert_non_null(strstr(rec.error_message, "64 MiB"));
    assert_non_null(strstr(rec.error_message, "conversion_memory"));
    fe_conversion_record_clear(&rec);
}

/* A conversion of a few seconds: progress reaches the store on the way, at most every
 * 500 ms. */
static void test_progress(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof(path), "%s/grid512.ply", g_in);
    assert_true(write_ply_grid(path, 512));
    create_conversion("progress", settings(file_uri(g_in), NULL, "grid512.ply", NULL,
                                           file_uri(g_out), NULL, NULL));
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    int64_t t0 = mono_ms();
    run_one("progress", &rec, &ev);
    int64_t took = mono_ms() - t0;
    print_message("  %s in %lld ms, %d progress writes, shortest gap %lld ms\n",
                  fe_conversion_status_str(rec.status), (long long)took, ev.progress_writes,
                  (long long)ev.min_gap_ms);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    assert_int_equal(rec.progress, 100);
    if (took > 1500) {
        assert_true(ev.progress_writes >= 1);
    }
    if (ev.progress_writes >= 2) {
        assert_true(ev.min_gap_ms >= 450);
    }
    assert_true(ev.progress_writes <= took / 500 + 1);
    fe_conversion_record_clear(&rec);
}

static void write_script(const char *name, const char *body, char *out_path, size_t size)
{
    snprintf(out_path, size, "%s/%s", g_tmp, name);
    assert_true(write_text(out_path, body));
    assert_int_equal(chmod(out_path, 0700), 0);
}

/* A child that fails without a result, crashes, spins, hangs or is not there at all. */
static void test_child_failures(void **state)
{
    (void)state;
    NEED_MODELS();
    char script[700];
    char *saved_path = g_cfg.convert_path;
    uint64_t saved_cpu = g_cfg.conversion_cpu_seconds;

    write_script("exit3.sh", "#!/bin/sh\necho 'something broke' >&2\nexit 3\n", script,
                 sizeof(script));
    g_cfg.convert_path = script;
    create_conversion("child-exit", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                             file_uri(g_out), "child/", NULL));
    expect_failed("child-exit", "ConversionProcessFailed",
                  "exited with status 3 without a result: something broke");

    write_script("segv.sh", "#!/bin/sh\nkill -SEGV $$\n", script, sizeof(script));
    create_conversion("child-segv", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                             file_uri(g_out), "child/", NULL));
    expect_failed("child-segv", "ConversionProcessFailed", "killed by SIGSEGV");

    snprintf(script, sizeof(script), "%s/no-such-convert", g_tmp);
    create_conversion("child-missing", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                                file_uri(g_out), "child/", NULL));
    expect_failed("child-missing", "InternalError", "not found");

    /* RLIMIT_CPU: SIGXCPU after 1 s of CPU (or, on a busy machine, the 2 s wall clock). */
    write_script("spin.sh", "#!/bin/sh\nwhile :; do :; done\n", script, sizeof(script));
    g_cfg.conversion_cpu_seconds = 1;
    create_conversion("child-spin", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                             file_uri(g_out), "child/", NULL));
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conversion_record rec;
    run_one("child-spin", &rec, &ev);
    print_message("  %s: %s\n", rec.error_code, rec.error_message);
    assert_int_equal(rec.status, FE_CONV_FAILED);
    assert_non_null(strstr(rec.error_message, "conversion_cpu"));
    fe_conversion_record_clear(&rec);

    /* The wall clock: twice the CPU limit. */
    write_script("hang.sh", "#!/bin/sh\nsleep 30\n", script, sizeof(script));
    create_conversion("child-hang", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                             file_uri(g_out), "child/", NULL));
    int64_t t0 = mono_ms();
    expect_failed("child-hang", "ConversionTimedOut", "longer than 2 s");
    assert_true(mono_ms() - t0 < 10000);

    g_cfg.convert_path = saved_path;
    g_cfg.conversion_cpu_seconds = saved_cpu;
}

/* A conversion whose record changes under the runner (here: cancelled by hand) loses its
 * child within a few seconds, and the runner writes nothing over the change. */
static void test_record_changed(void **state)
{
    (void)state;
    NEED_MODELS();
    char script[700];
    write_script("hang2.sh", "#!/bin/sh\nsleep 30\n", script, sizeof(script));
    char *saved_path = g_cfg.convert_path;
    g_cfg.convert_path = script;
    create_conversion("changed", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                          file_uri(g_out), "changed/", NULL));
    struct fe_conv_runner *runner = NULL;
    char err[256];
    assert_true(fe_conv_runner_create(&g_cfg, g_store, NULL, NULL, &runner, err, sizeof(err)));
    fe_conv_runner_wake(runner);
    struct fe_conversion_record rec;
    pid_t pid = 0;
    for (int i = 0; i < 200 && pid == 0; i++) {
        get_conversion("changed", &rec);
        pid = rec.pid;
        if (pid == 0) {
            fe_conversion_record_clear(&rec);
            sleep_ms(50);
        }
    }
    assert_true(pid > 0);
    rec.status = FE_CONV_CANCELLED;
    rec.pid = 0;
    snprintf(rec.error_code, sizeof(rec.error_code), "Cancelled");
    assert_int_equal(g_store->conversion_update(g_store, &rec, FE_CONV_RUNNING), FE_STORE_OK);
    fe_conversion_record_clear(&rec);
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = kill(pid, 0) != 0;
        sleep_ms(50);
    }
    assert_true(gone);
    fe_conv_runner_destroy(&runner);
    get_conversion("changed", &rec);
    assert_int_equal(rec.status, FE_CONV_CANCELLED);
    assert_string_equal(rec.error_code, "Cancelled");
    fe_conversion_record_clear(&rec);
    g_cfg.convert_path = saved_path;
}

/* A runner destroyed while openrr-convert runs leaves the conversion Running; the next
 * runner requeues it and it succeeds on its second attempt. */
static void test_restart(void **state)
{
    (void)state;
    NEED_MODELS();
#ifndef FE_TEST_CONVERT
    skip();
#else
    char wrapper[700];
    snprintf(wrapper, sizeof(wrapper), "%s/slow-convert.sh", g_tmp);
    assert_true(write_text(wrapper, "#!/bin/sh\nsleep 30\nexec '" FE_TEST_CONVERT "' \"$@\"\n"));
    assert_int_equal(chmod(wrapper, 0700), 0);
    create_conversion("restart", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                          file_uri(g_out), "restart/", NULL));
    g_cfg.convert_path = wrapper;
    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct fe_conv_runner *runner = NULL;
    char err[256];
    assert_true(fe_conv_runner_create(&g_cfg, g_store, on_event, &ev, &runner, err, sizeof(err)));
    fe_conv_runner_wake(runner);
    struct fe_conversion_record rec;
    pid_t pid = 0;
    for (int i = 0; i < 200 && pid == 0; i++) {
        get_conversion("restart", &rec);
        pid = rec.pid;
        fe_conversion_record_clear(&rec);
        if (pid == 0) {
            sleep_ms(50);
        }
    }
    assert_true(pid > 0);
    assert_true(kill(pid, 0) == 0);
    time_t before = time(NULL);
    fe_conv_runner_destroy(&runner);
    assert_true(time(NULL) - before < 10); /* SIGTERM ended it, no 30 s wait */
    assert_true(kill(pid, 0) != 0 && errno == ESRCH);
    get_conversion("restart", &rec);
    assert_int_equal(rec.status, FE_CONV_RUNNING);
    assert_int_equal(rec.attempts, 1);
    fe_conversion_record_clear(&rec);

    g_cfg.convert_path = NULL;
    run_one("restart", &rec, &ev);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    assert_int_equal(rec.attempts, 2);
    assert_int_equal(rec.progress, 100);
    fe_conversion_record_clear(&rec);
#endif
}

/* A child of a previous openrrd that survived it (same pid, same start time) is killed
 * before its conversion is requeued. */
static void test_survivor_killed(void **state)
{
    (void)state;
    NEED_MODELS();
    pid_t sleeper = fork();
    if (sleeper == 0) {
        setpgid(0, 0);
        execlp("sleep", "sleep", "60", (char *)NULL);
        _exit(127);
    }
    assert_true(sleeper > 0);
    setpgid(sleeper, sleeper);
    sleep_ms(100);
    char stat_path[64];
    char buf[1024];
    snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)sleeper);
    FILE *f = fopen(stat_path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')') + 2;
    for (int field = 3; field < 22; field++) {
        p = strchr(p, ' ') + 1;
    }
    uint64_t start = strtoull(p, NULL, 10);

    create_conversion("survivor", settings(file_uri(g_in), NULL, "BoxTextured.gltf", NULL,
                                           file_uri(g_out), "survivor/", NULL));
    struct fe_conversion_record rec;
    memset(&rec, 0, sizeof(rec));
    assert_int_equal(g_store->conversion_claim(g_store, &rec), FE_STORE_OK);
    assert_string_equal(rec.id, "survivor");
    rec.pid = sleeper;
    rec.pid_start_time = start;
    assert_int_equal(g_store->conversion_update(g_store, &rec, FE_CONV_RUNNING), FE_STORE_OK);
    fe_conversion_record_clear(&rec);

    struct events ev = {.lock = PTHREAD_MUTEX_INITIALIZER};
    run_one("survivor", &rec, &ev);
    int status = 0;
    assert_int_equal(waitpid(sleeper, &status, 0), sleeper);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_int_equal(rec.status, FE_CONV_SUCCEEDED);
    assert_int_equal(rec.attempts, 2);
    fe_conversion_record_clear(&rec);
}

/* ---- fe_conv_check_settings ---------------------------------------------------------------- */

static void check_bad(char *json, const char *target, const char *in_message)
{
    char t[128];
    char m[512];
    bool ok = fe_conv_check_settings(&g_cfg, json, t, sizeof(t), m, sizeof(m));
    print_message("  %s: %s\n", t, m);
    assert_false(ok);
    assert_string_equal(t, target);
    if (in_message != NULL) {
        assert_non_null(strstr(m, in_message));
    }
    free(json);
}

static void test_check_settings(void **state)
{
    (void)state;
    char t[128];
    char m[512];
    char *ok = settings(file_uri(g_in), "a/", "b/c.gltf", NULL, file_uri(g_out), NULL, NULL);
    assert_true(fe_conv_check_settings(&g_cfg, ok, t, sizeof(t), m, sizeof(m)));
    free(ok);
    ok = settings("https://acct.blob.example/c", NULL, "x.fbx", "?sig=1",
                  "file://localhost"
                  "/",
                  NULL, "y.rrasset");
    /* file://localhost/ is the root directory: outside the storage root. */
    assert_false(fe_conv_check_settings(&g_cfg, ok, t, sizeof(t), m, sizeof(m)));
    assert_string_equal(t, "settings.outputLocation.storageContainerUri");
    free(ok);
    ok = settings("https://acct.blob.example/c", NULL, "x.fbx", "?sig=1", file_uri(g_out), NULL,
                  "y.rrasset");
    assert_true(fe_conv_check_settings(&g_cfg, ok, t, sizeof(t), m, sizeof(m)));
    free(ok);

    const char *in_uri = "settings.inputLocation.storageContainerUri";
    check_bad(settings("file:///etc", NULL, "passwd", NULL, file_uri(g_out), NULL, NULL), in_uri,
              "outside the storage root");
    char link[1024];
    snprintf(link, sizeof(link), "%s/etc-link", g_in);
    assert_int_equal(symlink("/etc", link), 0);
    check_bad(settings(file_uri(link), NULL, "passwd", NULL, file_uri(g_out), NULL, NULL), in_uri,
              "outside the storage root");
    char up[1024];
    snprintf(up, sizeof(up), "%s/in/../..", g_storage);
    check_bad(settings(file_uri(up), NULL, "passwd", NULL, file_uri(g_out), NULL, NULL), in_uri,
              NULL);
    check_bad(
        settings(file_uri("/nonexistent-dir"), NULL, "x.glb", NULL, file_uri(g_out), NULL, NULL),
        in_uri, "does not exist");
    check_bad(settings("ftp://host/c", NULL, "x.glb", NULL, file_uri(g_out), NULL, NULL), in_uri,
              NULL);
    check_bad(settings("file://otherhost/x", NULL, "x.glb", NULL, file_uri(g_out), NULL, NULL),
              in_uri, NULL);
    check_bad(settings("https://host/c?sig=leak", NULL, "x.glb", NULL, file_uri(g_out), NULL, NULL),
              in_uri, "storageContainerReadListSas");
    check_bad(settings("https://user:pw@host/c", NULL, "x.glb", NULL, file_uri(g_out), NULL, NULL),
              in_uri, NULL);
    const char *rel = "settings.inputLocation.relativeInputAssetPath";
    check_bad(settings(file_uri(g_in), NULL, "../x.glb", NULL, file_uri(g_out), NULL, NULL), rel,
              NULL);
    check_bad(settings(file_uri(g_in), NULL, "a/../../x.glb", NULL, file_uri(g_out), NULL, NULL),
              rel, NULL);
    check_bad(settings(file_uri(g_in), NULL, "/etc/passwd", NULL, file_uri(g_out), NULL, NULL), rel,
              NULL);
    check_bad(settings(file_uri(g_in), NULL, "", NULL, file_uri(g_out), NULL, NULL), rel, NULL);
    check_bad(settings(file_uri(g_in), "../", "x.glb", NULL, file_uri(g_out), NULL, NULL),
              "settings.inputLocation.blobPrefix", NULL);
    check_bad(settings(file_uri(g_in), "a/.", "./x.glb", NULL, file_uri(g_out), NULL, NULL),
              "settings.inputLocation.blobPrefix", NULL);
    const char *name = "settings.outputLocation.outputAssetFilename";
    check_bad(settings(file_uri(g_in), NULL, "x.glb", NULL, file_uri(g_out), NULL, "x.glb"), name,
              ".rrasset");
    check_bad(settings(file_uri(g_in), NULL, "x.glb", NULL, file_uri(g_out), NULL, ".rrasset"),
              name, NULL);
    check_bad(settings(file_uri(g_in), NULL, "x.glb", NULL, file_uri(g_out), NULL, "../x.rrasset"),
              name, NULL);
    check_bad(settings(file_uri(g_in), "../", "x.glb", NULL, file_uri(g_out), "../", NULL),
              "settings.inputLocation.blobPrefix", NULL);
    check_bad(settings(file_uri(g_in), NULL, "x.glb", NULL, file_uri(g_out), "../", NULL),
              "settings.outputLocation.blobPrefix", NULL);
    check_bad(settings(file_uri(g_in), NULL, "x.glb", NULL, file_uri("/tmp"), NULL, NULL),
              "settings.outputLocation.storageContainerUri", "outside the storage root");
    check_bad(settings(file_uri(g_in), NULL, "x.glb", "a b", file_uri(g_out), NULL, NULL),
              "settings.inputLocation.storageContainerReadListSas", NULL);

    check_bad(strdup("{\"outputLocation\":{}}"), "settings.inputLocation", "required");
    check_bad(strdup("{\"inputLocation\":[],\"outputLocation\":{}}"), "settings.inputLocation",
              NULL);
    check_bad(strdup("[1]"), "settings", NULL);
    check_bad(strdup("{not json"), "settings", NULL);
    check_bad(strdup("{\"inputLocation\":{\"storageContainerUri\":5,"
                     "\"relativeInputAssetPath\":\"x\"},\"outputLocation\":{}}"),
              in_uri, "string");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_settings),
        cmocka_unit_test(test_file_success),
        cmocka_unit_test(test_file_output_name),
        cmocka_unit_test(test_missing_input),
        cmocka_unit_test(test_corrupt_input),
        cmocka_unit_test(test_escaping_input),
        cmocka_unit_test(test_output_not_supported),
        cmocka_unit_test(test_http_success),
        cmocka_unit_test(test_memory_limit),
        cmocka_unit_test(test_progress),
        cmocka_unit_test(test_child_failures),
        cmocka_unit_test(test_record_changed),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_survivor_killed),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
