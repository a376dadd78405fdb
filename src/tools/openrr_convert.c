/* SPDX-License-Identifier: Apache-2.0 */
/*
 * openrr-convert — converts a model into a .rrasset for openrr-host, and inspects .rrasset
 * files. The control plane runs it as a child per conversion (--json-progress) and reads the
 * <name>.result.json and <name>.info.json it leaves in the output folder; the exit status says
 * the same as result.json's error code. All the work is in src/convert (libopenrr_convert).
 *
 * Threads: one, the main thread.
 */
#include "rr_convert.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: openrr-convert IN OUT_DIR [--settings FILE] [--name NAME] [--json-progress]\n"
            "                      [--compress]\n"
            "       openrr-convert --inspect FILE.rrasset\n"
            "       openrr-convert -h | --help\n"
            "\n"
            "Converts IN (glTF 2.0 .gltf/.glb, FBX, OBJ or PLY, point clouds as PLY) into\n"
            "OUT_DIR/NAME.rrasset, with OUT_DIR/NAME.info.json (settings, input and output\n"
            "statistics) and OUT_DIR/NAME.result.json (status, errors, warnings), which is\n"
            "written whenever OUT_DIR is writable, on failure too. OUT_DIR is created if missing.\n"
            "\n"
            "  --settings FILE   conversion settings (default: <model>.ConversionSettings.json\n"
            "                    beside IN, when present)\n"
            "  --name NAME       output file names (default: IN's name without extension)\n"
            "  --json-progress   one JSON object per line on stdout:\n"
            "                    {\"stage\":\"optimize\",\"progress\":0.42}, last\n"
            "                    {\"stage\":\"done\",\"progress\":1.0,\"status\":\"Succeeded\"}\n"
            "  --compress        zstd-compress the large sections of the asset\n"
            "  --inspect FILE    validate FILE, verify its checksums and print its contents\n"
            "  -h, --help        this text\n"
            "\n"
            "A progress bar is drawn on stderr when it is a terminal.\n"
            "\n"
            "Exit status (result.json error code):\n"
            "   0  Succeeded\n"
            "   3  InputNotFound, InputUnreadable\n"
            "   4  UnsupportedFormat\n"
            "   5  InvalidInput (also --inspect on an invalid or damaged asset)\n"
            "   6  InvalidSettings\n"
            "   7  TextureDecodeFailed\n"
            "   8  OutputError\n"
            "   9  InputTooLarge\n"
            "  64  usage error\n"
            "  70  InternalError\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "openrr-convert: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\ntry 'openrr-convert --help'\n");
    return rr_convert_exit_code(RR_CONVERT_USAGE);
}

int main(int argc, char **argv)
{
    enum { OPT_SETTINGS = 256, OPT_NAME, OPT_JSON, OPT_COMPRESS, OPT_INSPECT };
    static const struct option longopts[] = {
        {"settings", required_argument, NULL, OPT_SETTINGS},
        {"name", required_argument, NULL, OPT_NAME},
        {"json-progress", no_argument, NULL, OPT_JSON},
        {"compress", no_argument, NULL, OPT_COMPRESS},
        {"inspect", required_argument, NULL, OPT_INSPECT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct rr_convert_options opt;
    memset(&opt, 0, sizeof(opt));
    const char *inspect = NULL;
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case OPT_SETTINGS:
            opt.settings_path = optarg;
            break;
        case OPT_NAME:
            opt.name = optarg;
            break;
        case OPT_JSON:
            opt.json_progress = true;
            break;
        case OPT_COMPRESS:
            opt.compress = true;
            break;
        case OPT_INSPECT:
            inspect = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
        }
    }
    int rest = argc - optind;
    if (inspect != NULL) {
        if (rest != 0) {
            return usage_error("--inspect takes one file and nothing else (got '%s')",
                               argv[optind]);
        }
        return rr_convert_exit_code(rr_convert_inspect(inspect, stdout));
    }
    if (rest != 2) {
        return usage_error("%s", rest < 2 ? "expected IN and OUT_DIR" : "too many arguments");
    }
    opt.input = argv[optind];
    opt.output_dir = argv[optind + 1];
    if (opt.name != NULL && (opt.name[0] == '\0' || strchr(opt.name, '/') != NULL ||
                             strcmp(opt.name, ".") == 0 || strcmp(opt.name, "..") == 0)) {
        return usage_error("--name '%s' must be a plain file name", opt.name);
    }
    opt.progress_bar = isatty(STDERR_FILENO) == 1;
    return rr_convert_exit_code(rr_convert_run(&opt));
}
