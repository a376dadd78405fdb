/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scene_script_internal — the parsed form of a scene script, shared by the parser
 * (scene_script.c) and the runner (scene_run.c).
 */
#ifndef OPENRR_PLAYER_SCENE_SCRIPT_INTERNAL_H
#define OPENRR_PLAYER_SCENE_SCRIPT_INTERNAL_H

#include "scene_script.h"

#include <openrr/scene.h>

#include <stdint.h>

#define SCENE_SCRIPT_MAX_NAMES 256u
#define SCENE_SCRIPT_MAX_NAME 64u
#define SCENE_SCRIPT_MAX_SLEEP_MS 600000u

enum script_op {
    OP_LOAD,    /* load NAME URI [PARENT] */
    OP_ENTITY,  /* entity NAME [PARENT [LABEL]] */
    OP_PICK,    /* pick NAME OX OY OZ DX DY DZ */
    OP_MOVE,    /* move REF X Y Z [QX QY QZ QW [SX SY SZ]] */
    OP_PARENT,  /* parent REF PARENT */
    OP_STATE,   /* state REF FIELD on|off|inherit; tint/hide/show/select shorthands */
    OP_COLOR,   /* color REF R G B A | color REF none */
    OP_CUT,     /* cut NAME NX NY NZ D */
    OP_UNCUT,   /* uncut NAME | uncut all */
    OP_RAYCAST, /* raycast OX OY OZ DX DY DZ [all] */
    OP_QUERY,   /* query MINX MINY MINZ MAXX MAXY MAXZ */
    OP_DESTROY, /* destroy REF */
    OP_SLEEP,   /* sleep MS */
};

enum script_field {
    FIELD_HIDDEN,
    FIELD_SELECTED,
    FIELD_SEE_THROUGH,
    FIELD_CUT_PLANES,
    FIELD_TINT,
};

/* An entity (or cut plane) a line names: a name bound by an earlier line, `root`, or a
 * number. */
struct script_ref {
    int name; /* index in script->names, or −1 for a literal id */
    uint32_t id;
};

struct script_cmd {
    enum script_op op;
    unsigned line;
    enum rr_scene_result expect;
    const char *verb; /* as written, for messages */
    int bind;         /* the name this line binds (load, entity, pick, cut), or −1 */
    struct script_ref target;
    struct script_ref other; /* parent */
    float v[10];
    unsigned nv;
    char *text; /* load: the URI; entity: the label (NULL = none) */
    enum script_field field;
    uint8_t value; /* enum rr_scene_override */
    bool all;      /* raycast all hits; uncut every plane; color none */
};

struct scene_script {
    struct script_cmd *cmds;
    size_t count;
    char names[SCENE_SCRIPT_MAX_NAMES][SCENE_SCRIPT_MAX_NAME];
    size_t name_count;
};

#endif /* OPENRR_PLAYER_SCENE_SCRIPT_INTERNAL_H */
