/* Test helper shared by the unit tests that edit JSON documents by path:
 * with(base, "a.b[2].c", raw) is base with that value set to the raw JSON
 * text (or removed for NULL). */
#ifndef SITEGATE_TEST_JSON_WITH_H
#define SITEGATE_TEST_JSON_WITH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Follows "a.b[2].c" in root; creates missing objects on the way when asked. */
static inline cJSON *at(cJSON *node, const char *tok, bool create)
{
    char name[256];
    const char *br = strchr(tok, '[');
    size_t n = br ? (size_t)(br - tok) : strlen(tok);
    snprintf(name, sizeof(name), "%.*s", (int)n, tok);
    cJSON *child = cJSON_GetObjectItemCaseSensitive(node, name);
    if (!child && create)
        child = cJSON_AddObjectToObject(node, name);
    if (child && br)
        child = cJSON_GetArrayItem(child, atoi(br + 1));
    return child;
}

/* base with the value at path set to value, or removed if NULL. The value is
 * put in as raw text, so that what cJSON would not print back (1e999,
 * "\u0000") reaches the loader as written. */
static inline char *with(const char *base, const char *path, const char *value)
{
    cJSON *root = cJSON_Parse(base);
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *node = root;
    char *tok = buf, *dot;
    while ((dot = strchr(tok, '.'))) {
        *dot = '\0';
        node = at(node, tok, true);
        tok = dot + 1;
    }
    char name[256];
    const char *br = strchr(tok, '[');
    snprintf(name, sizeof(name), "%.*s", br ? (int)(br - tok) : (int)strlen(tok), tok);
    cJSON *v = value ? cJSON_CreateRaw(value) : NULL;
    if (br) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(node, name);
        if (v)
            cJSON_ReplaceItemInArray(arr, atoi(br + 1), v);
        else
            cJSON_DeleteItemFromArray(arr, atoi(br + 1));
    } else if (!v) {
        cJSON_DeleteItemFromObjectCaseSensitive(node, name);
    } else if (cJSON_GetObjectItemCaseSensitive(node, name)) {
        cJSON_ReplaceItemInObjectCaseSensitive(node, name, v);
    } else {
        cJSON_AddItemToObject(node, name, v);
    }
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

#endif
