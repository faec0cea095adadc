/*
 * worker_types.c - a column's logical type, as the loaded DuckDB release
 * gives it, described as a canonical type tree (vec.h): what SCAN
 * (worker_data.c) and PRINT (worker_print.c) say of the columns they
 * send, and what the encoders follow.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/vec.h"
#include "engine/worker_int.h"

static uint8_t internal_width(int ddb_type)
{
    switch (ddb_type) {
    case 6: /* UTINYINT */
        return 1;
    case 3: /* SMALLINT */
    case 7: /* USMALLINT */
        return 2;
    case 4: /* INTEGER */
    case 8: /* UINTEGER */
        return 4;
    case 5: /* BIGINT */
        return 8;
    case 16: /* HUGEINT */
        return 16;
    default:
        return 0;
    }
}

/* count children for n and their names, all zero; false when out of
 * memory (n is released by its owner either way). */
static bool alloc_children(struct dm_type_node *n, size_t count)
{
    n->children = calloc(count, sizeof(*n->children));
    n->names = calloc(count, sizeof(char *));
    if (!n->children || !n->names)
        return false;
    n->nchildren = (uint32_t)count;
    return true;
}

/* n's child i, named name (the release's, freed here; NULL: none) and
 * described from ct, which is destroyed here (NULL: the release gave
 * none, which cannot be described). */
static bool describe_child(struct worker *w, struct dm_type_node *n, dm_idx_t i,
                           char *name, dm_ddb_ltype ct, int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    n->names[i] = name ? strdup(name) : NULL;
    if (name)
        a->free(name);
    bool ok = ct && worker_describe(w, ct, &n->children[i], depth + 1);
    if (ct)
        a->destroy_logical_type(&ct);
    return ok;
}

/* n's one child (a LIST's or an ARRAY's element type) from child, which
 * is destroyed here (it may be NULL: the release gave none). */
static bool describe_element(struct worker *w, struct dm_type_node *n,
                             dm_ddb_ltype child, int depth)
{
    if (!alloc_children(n, 1)) {
        if (child)
            w->api.destroy_logical_type(&child);
        return false;
    }
    return describe_child(w, n, 0, NULL, child, depth);
}

/* A union's first child: its tag, a UTINYINT without a name. */
static void describe_union_tag(struct dm_type_node *n)
{
    n->children[0].type = DM_T_UTINYINT;
    n->children[0].width = 1;
    n->names[0] = strdup("");
}

/* A MAP: a LIST of STRUCT(key, value); 0.6 holds STRUCT(key LIST, value
 * LIST), and the SCAN encoder lays it out the same way. */
static bool describe_map(struct worker *w, dm_ddb_ltype lt,
                         struct dm_type_node *n, int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    if (w->major == 0 && w->minor <= 6)
        n->flags = DM_TF_MAP_OF_LISTS;
    if (!alloc_children(n, 1))
        return false;
    struct dm_type_node *kv = &n->children[0];
    kv->type = DM_T_STRUCT;
    if (!alloc_children(kv, 2))
        return false;
    kv->names[0] = strdup("key");
    kv->names[1] = strdup("value");
    dm_ddb_ltype k = a->map_type_key_type(lt);
    dm_ddb_ltype v = a->map_type_value_type(lt);
    bool ok = k && v && worker_describe(w, k, &kv->children[0], depth + 1) &&
              worker_describe(w, v, &kv->children[1], depth + 1);
    if (k)
        a->destroy_logical_type(&k);
    if (v)
        a->destroy_logical_type(&v);
    return ok;
}

/* 0.6 has no union API, but its UNION is a STRUCT whose first child is
 * the tag, and the struct API reads it so. */
static bool describe_union_as_struct(struct worker *w, dm_ddb_ltype lt,
                                     struct dm_type_node *n, int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    dm_idx_t all = a->struct_type_child_count(lt);
    if (all < 2 || !alloc_children(n, all))
        return false;
    describe_union_tag(n);
    for (dm_idx_t i = 1; i < all; i++) {
        char *name = a->struct_type_child_name(lt, i);
        dm_ddb_ltype ct = a->struct_type_child_type(lt, i);
        if (!describe_child(w, n, i, name, ct, depth))
            return false;
    }
    return true;
}

/* A STRUCT's children, or a UNION's members after its tag. */
static bool describe_members(struct worker *w, dm_ddb_ltype lt,
                             struct dm_type_node *n, int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    bool is_union = n->type == DM_T_UNION;
    if (is_union && !a->union_type_member_count)
        return describe_union_as_struct(w, lt, n, depth);
    dm_idx_t members = is_union ? a->union_type_member_count(lt)
                                : a->struct_type_child_count(lt);
    /* a union is a struct whose first child is the tag */
    dm_idx_t first = is_union ? 1 : 0;
    dm_idx_t count = members + first;
    if (count == 0 || count > DM_TYPE_MAX_CHILDREN || !alloc_children(n, count))
        return false;
    if (is_union)
        describe_union_tag(n);
    for (dm_idx_t i = 0; i < members; i++) {
        char *name = is_union ? a->union_type_member_name(lt, i)
                              : a->struct_type_child_name(lt, i);
        dm_ddb_ltype ct = is_union ? a->union_type_member_type(lt, i)
                                   : a->struct_type_child_type(lt, i);
        if (!describe_child(w, n, first + i, name, ct, depth))
            return false;
    }
    return true;
}

/* An ARRAY (1.x only): a release without the array API cannot describe
 * one, and a size outside DuckDB's bounds is not read. */
static bool describe_array(struct worker *w, dm_ddb_ltype lt,
                           struct dm_type_node *n, int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    if (!a->array_type_child_type || !a->array_type_array_size)
        return false;
    dm_idx_t size = a->array_type_array_size(lt);
    if (size == 0 || size > DM_ARRAY_MAX_SIZE)
        return false;
    n->array_size = (uint32_t)size;
    return describe_element(w, n, a->array_type_child_type(lt), depth);
}

/* Describe a logical type as a canonical type tree. */
bool worker_describe(struct worker *w, dm_ddb_ltype lt, struct dm_type_node *n,
                     int depth)
{
    const struct dm_duckdb_api *a = &w->api;
    memset(n, 0, sizeof(*n));
    if (depth > DM_TYPE_MAX_DEPTH)
        return false;
    n->type = dm_type_from_release(w->major, w->minor, a->get_type_id(lt));
    n->width = dm_type_fixed_width(n->type);
    switch (n->type) {
    case DM_T_DECIMAL:
        n->dec_width = a->decimal_width(lt);
        n->dec_scale = a->decimal_scale(lt);
        n->width = internal_width(a->decimal_internal_type(lt));
        return n->width != 0;
    case DM_T_ENUM:
        n->width = internal_width(a->enum_internal_type(lt));
        return n->width != 0;
    case DM_T_TIME_TZ:
        n->flags = DM_TF_PACKED_TZ; /* only 1.x reports TIME_TZ */
        return true;
    case DM_T_LIST:
        return describe_element(w, n, a->list_type_child_type(lt), depth);
    case DM_T_ARRAY:
        return describe_array(w, lt, n, depth);
    case DM_T_MAP:
        return describe_map(w, lt, n, depth);
    case DM_T_STRUCT:
    case DM_T_UNION:
        return describe_members(w, lt, n, depth);
    default:
        return dm_type_phys(n) != DM_P_UNSUPPORTED;
    }
}

void worker_release_types(struct dm_type_node *types, size_t n)
{
    for (size_t i = 0; types && i < n; i++)
        dm_type_release(&types[i]);
    free(types);
}
