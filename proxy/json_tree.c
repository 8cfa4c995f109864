/* A read-only cJSON tree in one block (see json_tree.h).
 *
 * Two passes: frame_json_valid checks the text and counts its values and
 * decoded string bytes; the builder below then walks the text again, trusting
 * its syntax, and lays the tree out as an array of nodes followed by the
 * strings. The block is a static arena that only grows (free + malloc: its
 * old contents are dead, nothing to copy), so a steady stream of payloads
 * costs no allocation at all.
 *
 * Fidelity with cJSON 1.7.15 as Debian 12 ships it (checked with its parser,
 * tests/unit/proxy/test_json_tree.c and tests/fuzz/fuzz_json_tree.c):
 *   - members and items in text order by next/prev, the first child's prev
 *     pointing at the last, the last's next NULL; a member's name in string;
 *     a duplicate name is kept (GetObjectItem finds the first);
 *   - true has valueint 1, as cJSON sets it;
 *   - a number's valuedouble is strtod of its text with '.' turned into the
 *     locale's decimal point (cJSON's way of being locale-proof), of any
 *     length (Debian's CVE-2023-26819 fix lifted upstream's 63-byte limit);
 *     valueint is INT_MAX from INT_MAX up, INT_MIN from INT_MIN down, else
 *     the double cast to int;
 *   - a \u0000 escape is decoded to a NUL byte, so the string ends there for
 *     every C string function, as in cJSON; a lone or reversed surrogate is
 *     refused by both.
 * Recursion is bounded by FRAME_DEPTH_MAX, which frame_json_valid enforces.
 */
#include "json_tree.h"

#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

/* A tree larger than this gets a block of its own, freed at release: one odd
 * payload (a 1 MiB array of zeros is 32 MiB of nodes) must not pin its
 * memory for the life of the process. Real payloads take a few KiB. */
#define JSON_TREE__ARENA_MAX ((size_t)256 << 10)

/* The short numbers every payload carries are copied on the stack for strtod. */
#define JSON_TREE__NUMBER_SHORT 64

static void *json_tree__arena;
static size_t json_tree__arena_cap;
static bool json_tree__arena_busy; /* a live tree is in it */

struct json_tree__build {
    const char *p;
    size_t len, pos;
    cJSON *node; /* the next free node */
    cJSON *node_end;
    char *text;  /* the next free string byte */
    char point;  /* the locale's decimal point */
};

/* The arena when it is free and the tree fits the size it may keep, else a
 * block of the tree's own. NULL when out of memory. */
static void *json_tree__block(size_t size)
{
    size_t cap;

    if (json_tree__arena_busy || size > JSON_TREE__ARENA_MAX)
        return malloc(size);
    if (size > json_tree__arena_cap) {
        cap = json_tree__arena_cap * 2 > size ? json_tree__arena_cap * 2 : size;
        if (cap > JSON_TREE__ARENA_MAX)
            cap = JSON_TREE__ARENA_MAX;
        free(json_tree__arena);
        json_tree__arena = malloc(cap);
        json_tree__arena_cap = json_tree__arena ? cap : 0;
        if (!json_tree__arena)
            return NULL;
    }
    json_tree__arena_busy = true;
    return json_tree__arena;
}

void json_tree_release(cJSON *root)
{
    if (root && root == json_tree__arena)
        json_tree__arena_busy = false;
    else
        free(root);
}

/* Only JSON's four whitespace bytes can come between tokens of a valid text. */
static void json_tree__skip_ws(struct json_tree__build *b)
{
    while (b->pos < b->len && (b->p[b->pos] == ' ' || b->p[b->pos] == '\t' ||
                               b->p[b->pos] == '\n' || b->p[b->pos] == '\r'))
        b->pos++;
}

/* The string at b->pos, decoded into the block's string space. Most have no
 * escape: their bytes, already validated, are copied as they are. */
static int json_tree__string(struct json_tree__build *b, char **out)
{
    size_t body = b->pos + 1, end = body, n;

    while (end < b->len && b->p[end] != '"' && b->p[end] != '\\')
        end++;
    if (end < b->len && b->p[end] == '"') {
        n = end - body;
        memcpy(b->text, b->p + body, n);
        b->text[n] = '\0';
        b->pos = end + 1;
    } else if (!frame_json_string(b->p, b->len, &b->pos, b->text, &n)) {
        return -EINVAL;
    }
    *out = b->text;
    b->text += n + 1;
    return 0;
}

static bool json_tree__number_byte(char c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* cJSON's parse_number: strtod of a NUL-terminated copy whose '.' is the
 * locale's decimal point, valueint saturated. A number longer than any real
 * one is copied to the heap. */
static int json_tree__number(struct json_tree__build *b, cJSON *item)
{
    char small[JSON_TREE__NUMBER_SHORT], *text = small, *end;
    size_t start = b->pos, n;
    bool whole;
    double v;

    while (b->pos < b->len && json_tree__number_byte(b->p[b->pos]))
        b->pos++;
    n = b->pos - start;
    if (n >= sizeof small && !(text = malloc(n + 1)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        text[i] = b->p[start + i] == '.' ? b->point : b->p[start + i];
    text[n] = '\0';
    v = strtod(text, &end);
    /* All of it is read unless the locale's decimal point takes more than
     * one byte, which cJSON does not handle either: it refuses the text. */
    whole = end == text + n;
    if (text != small)
        free(text);
    if (!whole)
        return -EINVAL;
    item->type = cJSON_Number;
    item->valuedouble = v;
    item->valueint = v >= INT_MAX ? INT_MAX : v <= (double)INT_MIN ? INT_MIN : (int)v;
    return 0;
}

static int json_tree__value(struct json_tree__build *b, cJSON *item);

/* An object's members or an array's items, b->pos on its opening bracket. */
static int json_tree__container(struct json_tree__build *b, cJSON *item, int type, char close)
{
    cJSON *last = NULL;
    int rc;

    item->type = type;
    b->pos++;
    json_tree__skip_ws(b);
    while (b->p[b->pos] != close) {
        if (b->node == b->node_end)
            return -EINVAL; /* more values than the caller's bound */
        cJSON *child = b->node++;

        if (type == cJSON_Object) {
            if ((rc = json_tree__string(b, &child->string)) < 0)
                return rc;
            json_tree__skip_ws(b);
            b->pos++; /* the colon */
        }
        if ((rc = json_tree__value(b, child)) < 0)
            return rc;
        if (last) {
            last->next = child;
            child->prev = last;
        } else {
            item->child = child;
        }
        last = child;
        json_tree__skip_ws(b);
        if (b->p[b->pos] == ',') {
            b->pos++;
            json_tree__skip_ws(b);
        }
    }
    b->pos++;
    if (last)
        item->child->prev = last; /* cJSON's convention: the head knows the tail */
    return 0;
}

/* The value at b->pos (whitespace before it allowed) into item, zeroed. */
static int json_tree__value(struct json_tree__build *b, cJSON *item)
{
    json_tree__skip_ws(b);
    switch (b->p[b->pos]) {
    case '{':
        return json_tree__container(b, item, cJSON_Object, '}');
    case '[':
        return json_tree__container(b, item, cJSON_Array, ']');
    case '"':
        item->type = cJSON_String;
        return json_tree__string(b, &item->valuestring);
    case 't':
        item->type = cJSON_True;
        item->valueint = 1;
        b->pos += 4;
        return 0;
    case 'f':
        item->type = cJSON_False;
        b->pos += 5;
        return 0;
    case 'n':
        item->type = cJSON_NULL;
        b->pos += 4;
        return 0;
    default:
        return json_tree__number(b, item);
    }
}

/* The tree of buf[0..len), valid JSON, in a block for values nodes and
 * text_bytes of strings. */
static int json_tree__build(const char *buf, size_t len, size_t values, size_t text_bytes,
                            cJSON **out)
{
    struct json_tree__build b;
    size_t nodes;
    void *block;
    int rc;

    if (values == 0 || values > (SIZE_MAX - text_bytes) / sizeof(cJSON))
        return values ? -ENOMEM : -EINVAL;
    nodes = values * sizeof(cJSON);
    if (!(block = json_tree__block(nodes + text_bytes)))
        return -ENOMEM;
    memset(block, 0, nodes);
    b.p = buf;
    b.len = len;
    b.pos = 0;
    b.node = block;
    b.node_end = b.node + values;
    b.text = (char *)block + nodes;
    b.point = localeconv()->decimal_point[0];
    /* The root is the first node: the block's address, which release checks. */
    if ((rc = json_tree__value(&b, b.node++)) < 0) {
        json_tree_release(block);
        return rc;
    }
    *out = block;
    return 0;
}

int json_tree_parse(const char *buf, size_t len, cJSON **out)
{
    struct frame_json_size size;

    *out = NULL;
    if (!buf || !frame_json_valid(buf, len, &size))
        return -EINVAL;
    return json_tree__build(buf, len, size.values, size.text_bytes, out);
}

int json_tree_build(const char *buf, size_t len, size_t max_values, cJSON **out)
{
    *out = NULL;
    if (!buf || len == 0)
        return -EINVAL;
    /* A string's decoded bytes and its NUL take no more room than its quoted
     * text: len bounds them all. */
    return json_tree__build(buf, len, max_values, len, out);
}
