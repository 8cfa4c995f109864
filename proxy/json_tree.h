/* A read-only cJSON tree of a strict JSON text, built without an allocation
 * per node.
 *
 * The nodes are cJSON's own public structs, linked as cJSON 1.7.15 links them,
 * so the payload readers keep using cJSON's read accessors
 * (cJSON_GetObjectItemCaseSensitive, cJSON_ArrayForEach, cJSON_Is*, ...). The
 * text is validated and measured by frame_json_valid (frame.c), then the tree
 * is built in one block: a scratch arena reused from parse to parse. The tree
 * must not be changed (nothing of it was allocated by cJSON) and is handed
 * back with json_tree_release, never cJSON_Delete.
 *
 * For the proxy's loop thread only: the arena is a static.
 */
#ifndef SITEGATE_JSON_TREE_H
#define SITEGATE_JSON_TREE_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Builds the tree of buf[0..len) (no NUL needed; nothing past len is read):
 * 0 and *out, -EINVAL when the text is not one frame_json_valid accepts
 * (*out is then NULL), -ENOMEM. What cJSON would hold, field for field:
 * type, string (a member's name), valuestring, valuedouble (strtod of the
 * number's text), valueint (saturated to int), next, prev, child. While a
 * tree is alive, another one gets a block of its own, freed at release. */
int json_tree_parse(const char *buf, size_t len, cJSON **out);

/* The same for buf[0..len), one JSON value inside a text that frame_parse or
 * frame_json_valid accepted, of at most max_values values (a frame's values
 * bound its payload's): not validated again. -EINVAL when it holds more
 * values than max_values (a wrong bound), -ENOMEM. */
int json_tree_build(const char *buf, size_t len, size_t max_values, cJSON **out);

/* Gives a tree back (NULL is ignored). Its pointers, strings included, are
 * dead afterwards. */
void json_tree_release(cJSON *root);

#endif
