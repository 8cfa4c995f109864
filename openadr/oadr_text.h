/* Text rules of the messages that come off the broker, before and around
 * JSON parsing (pure). */
#ifndef SITEGATE_OADR_TEXT_H
#define SITEGATE_OADR_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define OADR_ID_MAX 128          /* objectID: [A-Za-z0-9_-], 1..128 */

/* Whether buf holds len bytes of well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF, no NUL). */
bool oadr_utf8_ok(const char *buf, size_t len);

/* The first "\u0000" escape in a string of JSON text (that cJSON accepted, so
 * the string boundaries found are right), or NULL: cJSON would cut the string
 * short there ("ev1\u0000x" reads as "ev1"). Also used by config/. */
const char *oadr_json_nul_escape(const char *json, size_t len);

/* Whether s is a valid OpenADR objectID ([A-Za-z0-9_-], 1..128 characters). */
bool oadr_object_id_ok(const char *s);

#endif
