/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scene graph: entity slots with generation-tagged ids, the child lists, model
 * instantiation, overrides, cut planes and the per-frame view. Any thread; every public
 * function takes scene->lock (see scene.h).
 */
#include "scene_internal.h"
#include "scene_math.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_ENTITIES 1000000u

/* Process-wide, so that the views of two scenes never share a generation (scene_view.h). */
static _Atomic uint64_t last_generation;

static void bump_generation(struct rr_scene *s)
{
    s->generation = atomic_fetch_add(&last_generation, 1) + 1;
}

/* ---- slots and ids ----------------------------------------------------------------------- */

uint32_t rr_scene_slot(const struct rr_scene *s, uint32_t id, bool allow_root)
{
    if (id == 0) {
        return allow_root ? 0 : RR_NONE;
    }
    uint32_t slot = id & RR_SLOT_MASK;
    uint32_t gen = id >> RR_SLOT_BITS;
    if (slot == 0 || slot >= s->slot_count || gen == 0 || s->e[slot].gen != gen) {
        return RR_NONE;
    }
    return slot;
}

uint32_t rr_scene_dfs_next(const struct rr_scene *s, uint32_t slot, uint32_t top)
{
    if (s->e[slot].first_child != RR_NONE) {
        return s->e[slot].first_child;
    }
    while (slot != top) {
        if (s->e[slot].next != RR_NONE) {
            return s->e[slot].next;
        }
        slot = s->e[slot].parent;
    }
    return RR_NONE;
}

const uint32_t *rr_scene_node_meshes(const struct rr_entity *e, uint32_t *out_count)
{
    *out_count = 0;
    if (e->model == NULL || e->node == RR_NONE) {
        return NULL;
    }
    size_t n_nodes = 0, n_nm = 0;
    const struct rr_asset_node *nodes =
        rr_asset_section_data(e->model->asset, RR_SECTION_NODES, &n_nodes);
    const uint32_t *nm = rr_asset_section_data(e->model->asset, RR_SECTION_NODE_MESHES, &n_nm);
    if (nodes == NULL || e->node >= n_nodes || nm == NULL) {
        return NULL;
    }
    /* The reader checked mesh_first + mesh_count against NODE_MESHES. */
    *out_count = nodes[e->node].mesh_count;
    return nm + nodes[e->node].mesh_first;
}

static void link_child(struct rr_scene *s, uint32_t parent, uint32_t slot)
{
    struct rr_entity *p = &s->e[parent], *c = &s->e[slot];
    c->parent = parent;
    c->next = RR_NONE;
    c->prev = p->last_child;
    if (p->last_child != RR_NONE) {
        s->e[p->last_child].next = slot;
    } else {
        p->first_child = slot;
    }
    p->last_child = slot;
}

static void unlink_child(struct rr_scene *s, uint32_t slot)
{
    struct rr_entity *c = &s->e[slot];
    struct rr_entity *p = &s->e[c->parent];
    if (c->prev != RR_NONE) {
        s->e[c->prev].next = c->next;
    } else {
        p->first_child = c->next;
    }
    if (c->next != RR_NONE) {
        s->e[c->next].prev = c->prev;
    } else {
        p->last_child = c->prev;
    }
    c->next = c->prev = RR_NONE;
}

static void model_unref(struct rr_scene *s, struct rr_scene_model *m);

/* A fresh slot linked under @p parent with an identity transform. RR_NONE when the entity
 * limit is reached or memory runs out (*out_oom tells which). */
static uint32_t alloc_entity(struct rr_scene *s, uint32_t parent, bool *out_oom)
{
    *out_oom = false;
    if (s->live >= s->cfg.max_entities) {
        return RR_NONE;
    }
    uint32_t slot;
    if (s->free_head != RR_NONE) {
        slot = s->free_head;
        s->free_head = s->e[slot].next;
    } else {
        if (s->slot_count == s->slot_cap) {
            uint32_t cap = s->slot_cap * 2;
            struct rr_entity *e = realloc(s->e, (size_t)cap * sizeof(*e));
            if (e == NULL) {
                *out_oom = true;
                return RR_NONE;
            }
            s->e = e;
            s->slot_cap = cap;
        }
        slot = s->slot_count++;
        s->e[slot].last_gen = 0;
    }
    struct rr_entity *e = &s->e[slot];
    uint32_t gen = e->last_gen;
    memset(e, 0, sizeof(*e));
    /* A new generation per reuse, so a stale id (of a destroyed entity) never names it. */
    e->gen = e->last_gen = gen >= RR_GEN_MAX ? 1 : gen + 1;
    e->first_child = e->last_child = e->next = e->prev = RR_NONE;
    e->node = RR_NONE;
    e->name = "";
    rr_m4_identity(e->local);
    rr_m4_identity(e->world);
    link_child(s, parent, slot);
    s->live++;
    s->dirty = true;
    bump_generation(s);
    return slot;
}

static void free_entity(struct rr_scene *s, uint32_t slot)
{
    struct rr_entity *e = &s->e[slot];
    if (e->name_owned) {
        free((char *)e->name);
    }
    if (e->model != NULL) {
        model_unref(s, e->model);
    }
    uint32_t gen = e->last_gen;
    memset(e, 0, sizeof(*e)); /* gen 0: free */
    e->last_gen = gen;
    e->next = s->free_head;
    s->free_head = slot;
    s->live--;
}

/* Destroy the subtree at @p slot (slot itself included), children first. */
static void destroy_subtree(struct rr_scene *s, uint32_t slot)
{
    unlink_child(s, slot);
    /* Post-order without a stack: descend to a leaf, free it, continue from its parent. */
    uint32_t cur = slot;
    for (;;) {
        while (s->e[cur].first_child != RR_NONE) {
            cur = s->e[cur].first_child;
        }
        if (cur == slot) {
            free_entity(s, cur);
            break;
        }
        uint32_t parent = s->e[cur].parent;
        unlink_child(s, cur);
        free_entity(s, cur);
        cur = parent;
    }
    s->dirty = true;
    bump_generation(s);
}

/* ---- models ------------------------------------------------------------------------------ */

static void model_free(struct rr_scene_model *m)
{
    for (uint32_t i = 0; i < m->loads; i++) {
        if (m->loader != NULL) {
            rr_asset_loader_release(m->loader, m->asset);
        }
    }
    if (m->loader == NULL) {
        rr_asset_close(&m->asset);
    }
    free(m->cloud_order);
    free(m->node_cloud_first);
    free(m);
}

static void model_unref(struct rr_scene *s, struct rr_scene_model *m)
{
    if (--m->refs > 0) {
        return;
    }
    for (struct rr_scene_model **p = &s->models; *p != NULL; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    model_free(m);
}

/* Group the asset's point clouds by placing node (a counting sort). */
static bool model_index_clouds(struct rr_scene_model *m)
{
    size_t n_nodes = 0, n_clouds = 0;
    rr_asset_section_data(m->asset, RR_SECTION_NODES, &n_nodes);
    const struct rr_asset_point_cloud *clouds =
        rr_asset_section_data(m->asset, RR_SECTION_POINT_CLOUDS, &n_clouds);
    m->node_cloud_first = calloc(n_nodes + 2, sizeof(uint32_t));
    m->cloud_order = calloc(n_clouds + 1, sizeof(uint32_t));
    if (m->node_cloud_first == NULL || m->cloud_order == NULL) {
        return false;
    }
    for (size_t i = 0; i < n_clouds; i++) {
        size_t n = clouds[i].node == RR_ASSET_NONE ? n_nodes : clouds[i].node;
        m->node_cloud_first[n + 1]++;
    }
    for (size_t n = 0; n < n_nodes + 1; n++) {
        m->node_cloud_first[n + 1] += m->node_cloud_first[n];
    }
    uint32_t *fill = calloc(n_nodes + 1, sizeof(uint32_t));
    if (fill == NULL) {
        return false;
    }
    for (size_t i = 0; i < n_clouds; i++) {
        size_t n = clouds[i].node == RR_ASSET_NONE ? n_nodes : clouds[i].node;
        m->cloud_order[m->node_cloud_first[n] + fill[n]++] = (uint32_t)i;
    }
    free(fill);
    return true;
}

uint64_t rr_scene_asset_triangles(const struct rr_asset *asset)
{
    size_t n_nodes = 0, n_nm = 0, n_meshes = 0;
    const struct rr_asset_node *nodes = rr_asset_section_data(asset, RR_SECTION_NODES, &n_nodes);
    const uint32_t *nm = rr_asset_section_data(asset, RR_SECTION_NODE_MESHES, &n_nm);
    const struct rr_asset_mesh *meshes = rr_asset_section_data(asset, RR_SECTION_MESHES, &n_meshes);
    uint64_t tris = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        for (uint32_t k = 0; k < nodes[i].mesh_count; k++) {
            tris += meshes[nm[nodes[i].mesh_first + k]].index_count / 3u;
        }
    }
    return tris;
}

enum rr_scene_result rr_scene_add_model(struct rr_scene *s, struct rr_asset *asset,
                                        struct rr_asset_loader *loader, uint32_t parent,
                                        uint32_t *out_root_id)
{
    if (s == NULL || asset == NULL || out_root_id == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_root_id = 0;
    size_t n_nodes = 0;
    const struct rr_asset_node *nodes = rr_asset_section_data(asset, RR_SECTION_NODES, &n_nodes);
    if (s->cfg.primitive_budget != 0 && rr_scene_asset_triangles(asset) > s->cfg.primitive_budget) {
        return RR_SCENE_ASSET_TOO_LARGE;
    }
    pthread_mutex_lock(&s->lock);
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    uint32_t *slot_of = NULL;
    uint32_t root = RR_NONE;
    struct rr_scene_model *m = NULL;
    bool new_model = false;
    uint32_t pslot = rr_scene_slot(s, parent, true);
    if (pslot == RR_NONE) {
        res = RR_SCENE_ENTITY_NOT_FOUND;
        goto out;
    }
    if (n_nodes + 1 > (size_t)(s->cfg.max_entities - s->live)) {
        res = RR_SCENE_ASSET_TOO_LARGE;
        goto out;
    }
    for (m = s->models; m != NULL && m->asset != asset; m = m->next) {
    }
    if (m == NULL) {
        m = calloc(1, sizeof(*m));
        if (m != NULL) {
            m->asset = asset;
        }
        if (m == NULL || !model_index_clouds(m)) {
            if (m != NULL) {
                free(m->cloud_order);
                free(m->node_cloud_first);
                free(m);
                m = NULL;
            }
            res = RR_SCENE_OUT_OF_MEMORY;
            goto out;
        }
        m->loader = loader;
        new_model = true;
        /* Held while instantiating, so a failure half way cannot free it under us. */
        m->refs = 1;
        m->next = s->models;
        s->models = m;
    } else {
        m->refs++;
    }
    slot_of = malloc((n_nodes + 1) * sizeof(uint32_t));
    bool oom = false;
    root = slot_of != NULL ? alloc_entity(s, pslot, &oom) : RR_NONE;
    if (root == RR_NONE) {
        res = slot_of == NULL || oom ? RR_SCENE_OUT_OF_MEMORY : RR_SCENE_ASSET_TOO_LARGE;
        goto undo;
    }
    s->e[root].model = m;
    m->refs++;
    s->e[root].name = "model";
    for (size_t i = 0; i < n_nodes; i++) {
        const char *nm = rr_asset_string(asset, nodes[i].name);
        if (i == 0 && nm[0] != '\0') {
            s->e[root].name = nm;
        }
        /* The reader guarantees parent < i, so slot_of[parent] is set. */
        uint32_t ps = nodes[i].parent == RR_ASSET_NONE ? root : slot_of[nodes[i].parent];
        uint32_t slot = alloc_entity(s, ps, &oom);
        if (slot == RR_NONE) {
            res = oom ? RR_SCENE_OUT_OF_MEMORY : RR_SCENE_ASSET_TOO_LARGE;
            goto undo;
        }
        slot_of[i] = slot;
        struct rr_entity *e = &s->e[slot];
        e->model = m;
        m->refs++;
        e->node = (uint32_t)i;
        e->name = nm; /* lives in the asset, which outlives the entity */
        memcpy(e->local, nodes[i].transform, sizeof(e->local));
    }
    if (loader != NULL) {
        m->loads++;
    }
    *out_root_id = rr_entity_id(s, root);
    model_unref(s, m); /* the instantiation hold */
    goto out;
undo:
    if (root != RR_NONE) {
        destroy_subtree(s, root);
    }
    if (m != NULL) {
        if (new_model && m->refs == 1) {
            /* Not ours to close: the caller keeps its reference on failure. */
            for (struct rr_scene_model **p = &s->models; *p != NULL; p = &(*p)->next) {
                if (*p == m) {
                    *p = m->next;
                    break;
                }
            }
            free(m->cloud_order);
            free(m->node_cloud_first);
            free(m);
        } else {
            m->refs--;
        }
    }
out:
    free(slot_of);
    pthread_mutex_unlock(&s->lock);
    return res;
}

size_t rr_scene_asset_count(struct rr_scene *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = 0;
    for (struct rr_scene_model *m = s->models; m != NULL; m = m->next) {
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- creation ---------------------------------------------------------------------------- */

enum rr_scene_result rr_scene_create(const struct rr_scene_config *cfg, struct rr_scene **out_scene)
{
    if (out_scene == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_scene = NULL;
    struct rr_scene_config c = {0};
    if (cfg != NULL) {
        c = *cfg;
    }
    if (c.max_entities == 0) {
        c.max_entities = DEFAULT_MAX_ENTITIES;
    }
    if (c.max_entities > RR_SLOT_MASK - 1) {
        return RR_SCENE_INVALID_PARAM;
    }
    struct rr_scene *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    s->cfg = c;
    s->slot_cap = 64;
    s->e = calloc(s->slot_cap, sizeof(*s->e));
    if (s->e == NULL || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s->e);
        free(s);
        return RR_SCENE_OUT_OF_MEMORY;
    }
    s->slot_count = 1;
    s->free_head = RR_NONE;
    struct rr_entity *root = &s->e[0];
    root->parent = root->first_child = root->last_child = root->next = root->prev = RR_NONE;
    root->node = RR_NONE;
    root->name = "";
    rr_m4_identity(root->local);
    rr_m4_identity(root->world);
    s->next_plane_id = 1;
    bump_generation(s); /* never 0, which would tell the renderer "unknown" */
    *out_scene = s;
    return RR_SCENE_SUCCESS;
}

static void clear_locked(struct rr_scene *s)
{
    while (s->e[0].first_child != RR_NONE) {
        destroy_subtree(s, s->e[0].first_child);
    }
    s->plane_count = 0;
    s->dirty = true;
    bump_generation(s);
}

void rr_scene_clear(struct rr_scene *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    clear_locked(s);
    pthread_mutex_unlock(&s->lock);
}

void rr_scene_destroy(struct rr_scene **scene_ptr)
{
    if (scene_ptr == NULL || *scene_ptr == NULL) {
        return;
    }
    struct rr_scene *s = *scene_ptr;
    *scene_ptr = NULL;
    clear_locked(s);
    /* What is left is held by the last view only. */
    while (s->models != NULL) {
        struct rr_scene_model *m = s->models;
        s->models = m->next;
        model_free(m);
    }
    pthread_mutex_destroy(&s->lock);
    free(s->e);
    free(s->draws);
    free(s->scratch);
    free(s);
}

/* ---- entities ---------------------------------------------------------------------------- */

enum rr_scene_result rr_scene_entity_create(struct rr_scene *s, uint32_t parent, const char *name,
                                            uint32_t *out_id)
{
    if (s == NULL || out_id == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_id = 0;
    if (name == NULL) {
        name = "";
    }
    size_t len = strnlen(name, RR_SCENE_MAX_NAME + 1);
    if (len > RR_SCENE_MAX_NAME) {
        return RR_SCENE_INVALID_PARAM;
    }
    char *copy = NULL;
    if (len > 0 && (copy = strdup(name)) == NULL) {
        return RR_SCENE_OUT_OF_MEMORY;
    }
    pthread_mutex_lock(&s->lock);
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    uint32_t pslot = rr_scene_slot(s, parent, true);
    bool oom = false;
    uint32_t slot = pslot == RR_NONE ? RR_NONE : alloc_entity(s, pslot, &oom);
    if (pslot == RR_NONE) {
        res = RR_SCENE_ENTITY_NOT_FOUND;
    } else if (slot == RR_NONE) {
        res = oom ? RR_SCENE_OUT_OF_MEMORY : RR_SCENE_ASSET_TOO_LARGE;
    } else {
        if (copy != NULL) {
            s->e[slot].name = copy;
            s->e[slot].name_owned = true;
            copy = NULL;
        }
        *out_id = rr_entity_id(s, slot);
    }
    pthread_mutex_unlock(&s->lock);
    free(copy);
    return res;
}

/* Lock and find a modifiable entity (not the root). On success the lock is held. */
static enum rr_scene_result lock_entity(struct rr_scene *s, uint32_t id, uint32_t *out_slot)
{
    if (s == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    if (id == RR_SCENE_ROOT) {
        return RR_SCENE_INVALID_PARAM;
    }
    pthread_mutex_lock(&s->lock);
    *out_slot = rr_scene_slot(s, id, false);
    if (*out_slot == RR_NONE) {
        pthread_mutex_unlock(&s->lock);
        return RR_SCENE_ENTITY_NOT_FOUND;
    }
    return RR_SCENE_SUCCESS;
}

enum rr_scene_result rr_scene_entity_destroy(struct rr_scene *s, uint32_t id)
{
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    destroy_subtree(s, slot);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}

enum rr_scene_result rr_scene_entity_set_transform(struct rr_scene *s, uint32_t id,
                                                   const struct rr_scene_transform *t)
{
    if (t == NULL || !rr_finite_n(t->position, 3) || !rr_finite_n(t->rotation, 4) ||
        !rr_finite_n(t->scale, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    float q[4] = {t->rotation[0], t->rotation[1], t->rotation[2], t->rotation[3]};
    if (!rr_normalize_n(q, 4)) {
        return RR_SCENE_INVALID_PARAM;
    }
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    rr_m4_from_trs(t->position, q, t->scale, s->e[slot].local);
    s->dirty = true;
    bump_generation(s);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}

enum rr_scene_result rr_scene_entity_set_parent(struct rr_scene *s, uint32_t id, uint32_t parent)
{
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    uint32_t pslot = rr_scene_slot(s, parent, true);
    if (pslot == RR_NONE) {
        res = RR_SCENE_ENTITY_NOT_FOUND;
    } else {
        /* A parent inside the subtree would make a cycle. */
        for (uint32_t a = pslot; a != 0 && a != RR_NONE; a = s->e[a].parent) {
            if (a == slot) {
                res = RR_SCENE_INVALID_PARAM;
                break;
            }
        }
    }
    if (res == RR_SCENE_SUCCESS && s->e[slot].parent != pslot) {
        unlink_child(s, slot);
        link_child(s, pslot, slot);
        s->dirty = true;
        bump_generation(s);
    }
    pthread_mutex_unlock(&s->lock);
    return res;
}

static bool color_valid(const float *c)
{
    for (int i = 0; i < 4; i++) {
        if (!(c[i] >= 0.0f && c[i] <= 1.0f)) { /* also refuses NaN */
            return false;
        }
    }
    return true;
}

enum rr_scene_result rr_scene_entity_set_state(struct rr_scene *s, uint32_t id,
                                               const struct rr_scene_state *st)
{
    if (st == NULL || st->hidden > 2 || st->selected > 2 || st->see_through > 2 ||
        st->use_cut_planes > 2 || st->tint > 2 || !color_valid(st->tint_color)) {
        return RR_SCENE_INVALID_PARAM;
    }
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    s->e[slot].state = *st;
    s->dirty = true;
    bump_generation(s);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}

enum rr_scene_result rr_scene_entity_set_color(struct rr_scene *s, uint32_t id, const float *rgba)
{
    if (rgba != NULL && !color_valid(rgba)) {
        return RR_SCENE_INVALID_PARAM;
    }
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    struct rr_entity *e = &s->e[slot];
    e->has_color = rgba != NULL;
    if (rgba != NULL) {
        memcpy(e->color, rgba, sizeof(e->color));
    }
    bump_generation(s);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}

/* ---- resolving ----------------------------------------------------------------------------- */

static uint32_t inherit(uint32_t parent_flags, uint32_t flag, uint8_t ov)
{
    if (ov == RR_SCENE_FORCE_ON) {
        return flag;
    }
    if (ov == RR_SCENE_FORCE_OFF) {
        return 0;
    }
    return parent_flags & flag;
}

void rr_scene_resolve(struct rr_scene *s)
{
    if (!s->dirty) {
        return;
    }
    for (uint32_t slot = rr_scene_dfs_next(s, 0, 0); slot != RR_NONE;
         slot = rr_scene_dfs_next(s, slot, 0)) {
        struct rr_entity *e = &s->e[slot];
        const struct rr_entity *p = &s->e[e->parent];
        rr_m4_mul(p->world, e->local, e->world);
        uint32_t f = inherit(p->flags, RR_EF_HIDDEN, e->state.hidden) |
                     inherit(p->flags, RR_EF_SELECTED, e->state.selected) |
                     inherit(p->flags, RR_EF_SEE_THROUGH, e->state.see_through) |
                     inherit(p->flags, RR_EF_CUT, e->state.use_cut_planes) |
                     inherit(p->flags, RR_EF_TINTED, e->state.tint);
        if (e->state.tint == RR_SCENE_FORCE_ON) {
            memcpy(e->tint, e->state.tint_color, sizeof(e->tint));
        } else if (f & RR_EF_TINTED) {
            memcpy(e->tint, p->tint, sizeof(e->tint));
        } else {
            memset(e->tint, 0, sizeof(e->tint));
        }
        e->flags = f;
        e->depth = p->depth + 1;
    }
    s->dirty = false;
}

static void fill_info(const struct rr_scene *s, uint32_t slot, struct rr_scene_entity_info *o)
{
    const struct rr_entity *e = &s->e[slot];
    memset(o, 0, sizeof(*o));
    o->id = rr_entity_id(s, slot);
    o->parent = rr_entity_id(s, e->parent);
    o->depth = e->depth;
    size_t n = strnlen(e->name, RR_SCENE_MAX_NAME);
    memcpy(o->name, e->name, n);
    o->name[n] = '\0';
    memcpy(o->world, e->world, sizeof(o->world));
    o->hidden = (e->flags & RR_EF_HIDDEN) != 0;
    o->selected = (e->flags & RR_EF_SELECTED) != 0;
    o->see_through = (e->flags & RR_EF_SEE_THROUGH) != 0;
    o->use_cut_planes = (e->flags & RR_EF_CUT) != 0;
    o->tinted = (e->flags & RR_EF_TINTED) != 0;
    memcpy(o->tint, e->tint, sizeof(o->tint));
    o->has_color = e->has_color;
    memcpy(o->color, e->color, sizeof(o->color));
    rr_scene_node_meshes(e, &o->mesh_count);
    o->asset = e->model != NULL ? e->model->asset : NULL;
}

enum rr_scene_result rr_scene_entity_get(struct rr_scene *s, uint32_t id,
                                         struct rr_scene_entity_info *out)
{
    if (out == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    uint32_t slot;
    enum rr_scene_result res = lock_entity(s, id, &slot);
    if (res != RR_SCENE_SUCCESS) {
        return res;
    }
    rr_scene_resolve(s);
    fill_info(s, slot, out);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}

size_t rr_scene_visit(struct rr_scene *s,
                      void (*fn)(void *user, const struct rr_scene_entity_info *info), void *user)
{
    if (s == NULL) {
        return 0;
    }
    pthread_mutex_lock(&s->lock);
    rr_scene_resolve(s);
    size_t n = 0;
    struct rr_scene_entity_info info;
    for (uint32_t slot = rr_scene_dfs_next(s, 0, 0); slot != RR_NONE;
         slot = rr_scene_dfs_next(s, slot, 0)) {
        if (fn != NULL) {
            fill_info(s, slot, &info);
            fn(user, &info);
        }
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

size_t rr_scene_entity_count(struct rr_scene *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->live;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* ---- cut planes -------------------------------------------------------------------------- */

enum rr_scene_result rr_scene_cut_plane_add(struct rr_scene *s, const float normal[3],
                                            float distance, uint32_t *out_id)
{
    if (s == NULL || normal == NULL || out_id == NULL || !rr_finite_n(normal, 3) ||
        !isfinite(distance)) {
        return RR_SCENE_INVALID_PARAM;
    }
    *out_id = 0;
    float n[3] = {normal[0], normal[1], normal[2]};
    double len = sqrt((double)n[0] * n[0] + (double)n[1] * n[1] + (double)n[2] * n[2]);
    if (!rr_normalize_n(n, 3)) {
        return RR_SCENE_INVALID_PARAM;
    }
    float d = (float)(distance / len);
    if (!isfinite(d)) {
        return RR_SCENE_INVALID_PARAM;
    }
    pthread_mutex_lock(&s->lock);
    enum rr_scene_result res = RR_SCENE_SUCCESS;
    if (s->plane_count >= RR_SCENE_MAX_CUT_PLANES) {
        res = RR_SCENE_TOO_MANY_CUT_PLANES;
    } else {
        struct rr_cut_plane *p = &s->planes[s->plane_count];
        memcpy(p->normal, n, sizeof(n));
        p->distance = d;
        s->plane_ids[s->plane_count++] = s->next_plane_id;
        *out_id = s->next_plane_id;
        s->next_plane_id = s->next_plane_id == UINT32_MAX ? 1 : s->next_plane_id + 1;
    }
    pthread_mutex_unlock(&s->lock);
    return res;
}

enum rr_scene_result rr_scene_cut_plane_remove(struct rr_scene *s, uint32_t id)
{
    if (s == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    pthread_mutex_lock(&s->lock);
    enum rr_scene_result res = RR_SCENE_NOT_FOUND;
    if (id == 0) {
        s->plane_count = 0;
        res = RR_SCENE_SUCCESS;
    }
    for (uint32_t i = 0; id != 0 && i < s->plane_count; i++) {
        if (s->plane_ids[i] == id) {
            /* Keep the order: the renderer's plane slots should not jump around. */
            memmove(&s->planes[i], &s->planes[i + 1],
                    (s->plane_count - i - 1) * sizeof(s->planes[0]));
            memmove(&s->plane_ids[i], &s->plane_ids[i + 1],
                    (s->plane_count - i - 1) * sizeof(s->plane_ids[0]));
            s->plane_count--;
            res = RR_SCENE_SUCCESS;
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return res;
}

/* ---- the view ------------------------------------------------------------------------------ */

static bool push_draw(struct rr_scene *s, size_t *n, const struct rr_entity *e, uint32_t id,
                      uint32_t mesh, uint32_t cloud)
{
    if (*n == s->draw_cap) {
        size_t cap = s->draw_cap ? s->draw_cap * 2 : 256;
        struct rr_scene_draw *d = realloc(s->draws, cap * sizeof(*d));
        if (d == NULL) {
            return false;
        }
        s->draws = d;
        s->draw_cap = cap;
    }
    struct rr_scene_draw *d = &s->draws[(*n)++];
    memset(d, 0, sizeof(*d));
    d->asset = e->model->asset;
    d->mesh_index = mesh;
    d->cloud_index = cloud;
    d->entity_id = id;
    memcpy(d->world, e->world, sizeof(d->world));
    memcpy(d->tint, e->tint, sizeof(d->tint));
    d->material_override = -1;
    if (e->has_color) {
        memcpy(d->colour_override, e->color, sizeof(d->colour_override));
        if (d->colour_override[3] <= 0.0f) {
            /* The view reads alpha 0 as "no override"; a transparent override stays one. */
            d->colour_override[3] = 1e-6f;
        }
    }
    d->flags = ((e->flags & RR_EF_SELECTED) ? RR_DRAW_SELECTED : 0) |
               ((e->flags & RR_EF_SEE_THROUGH) ? RR_DRAW_SEE_THROUGH : 0) |
               ((e->flags & RR_EF_TINTED) ? RR_DRAW_TINTED : 0) |
               ((e->flags & RR_EF_CUT) ? RR_DRAW_USE_CUT_PLANES : 0);
    e->model->in_new_view = true;
    return true;
}

static void fill_view(const struct rr_scene *s, size_t n, struct rr_scene_view *out)
{
    out->draws = s->draws;
    out->draw_count = n;
    out->generation = s->generation;
    memcpy(out->cut_planes, s->planes, sizeof(out->cut_planes));
    out->cut_plane_count = s->plane_count;
}

enum rr_scene_result rr_scene_build_view(struct rr_scene *s, struct rr_scene_view *out)
{
    if (s == NULL || out == NULL) {
        return RR_SCENE_INVALID_PARAM;
    }
    pthread_mutex_lock(&s->lock);
    rr_scene_resolve(s);
    /* Draws are rebuilt in place: the previous view is invalid from here on (scene_view.h),
     * but its assets stay referenced until the reference swap below. */
    for (struct rr_scene_model *m = s->models; m != NULL; m = m->next) {
        m->in_new_view = false;
    }
    size_t n = 0;
    bool ok = true;
    for (uint32_t slot = rr_scene_dfs_next(s, 0, 0); slot != RR_NONE && ok;
         slot = rr_scene_dfs_next(s, slot, 0)) {
        const struct rr_entity *e = &s->e[slot];
        if (e->model == NULL || (e->flags & RR_EF_HIDDEN)) {
            continue;
        }
        uint32_t id = rr_entity_id(s, slot);
        uint32_t count = 0;
        const uint32_t *meshes = rr_scene_node_meshes(e, &count);
        for (uint32_t k = 0; k < count && ok; k++) {
            ok = push_draw(s, &n, e, id, meshes[k], 0);
        }
        size_t n_nodes = 0;
        rr_asset_section_data(e->model->asset, RR_SECTION_NODES, &n_nodes);
        size_t g = e->node == RR_NONE ? n_nodes : e->node;
        for (uint32_t k = e->model->node_cloud_first[g];
             k < e->model->node_cloud_first[g + 1] && ok; k++) {
            ok = push_draw(s, &n, e, id, UINT32_MAX, e->model->cloud_order[k]);
        }
    }
    if (!ok) {
        /* Reference flags stay as they were: the assets of the last good view stay open. */
        fill_view(s, 0, out);
        pthread_mutex_unlock(&s->lock);
        return RR_SCENE_OUT_OF_MEMORY;
    }
    /* Take the new view's references before dropping the old one's, so an asset drawn by
     * both is never released in between. */
    for (struct rr_scene_model *m = s->models; m != NULL; m = m->next) {
        if (m->in_new_view && !m->in_view) {
            m->refs++;
        }
    }
    for (struct rr_scene_model *m = s->models, *next; m != NULL; m = next) {
        next = m->next;
        bool was = m->in_view;
        m->in_view = m->in_new_view;
        if (was && !m->in_view) {
            model_unref(s, m);
        }
    }
    fill_view(s, n, out);
    pthread_mutex_unlock(&s->lock);
    return RR_SCENE_SUCCESS;
}
