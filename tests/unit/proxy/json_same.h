/* Whether two cJSON trees hold the same thing the way cJSON 1.7.15 would:
 * type, key, string, number (bit for bit), valueint, and cJSON's links (in
 * order by next, each prev the one before, the first one's prev the last
 * one). Shared by test_json_tree.c and tests/fuzz/fuzz_json_tree.c, which
 * hold proxy/json_tree.c to cJSON's own parser. */
#ifndef SITEGATE_TEST_JSON_SAME_H
#define SITEGATE_TEST_JSON_SAME_H

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

static inline bool json_same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static inline bool json_links_ok(const cJSON *parent)
{
    const cJSON *first = parent->child, *it, *last = NULL;

    for (it = first; it; last = it, it = it->next)
        if (it != first && it->prev != last)
            return false;
    return !first || first->prev == last;
}

static inline bool json_same_tree(const cJSON *a, const cJSON *b)
{
    const cJSON *x, *y;

    if (a->type != b->type || a->valueint != b->valueint ||
        memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0 ||
        !json_same_str(a->string, b->string) || !json_same_str(a->valuestring, b->valuestring) ||
        !json_links_ok(a) || !json_links_ok(b))
        return false;
    for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
        if (!json_same_tree(x, y))
            return false;
    return !x && !y;
}

#endif
