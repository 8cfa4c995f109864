/* libFuzzer differential target: the payloads' read-only cJSON tree
 * (proxy/json_tree.c) against cJSON 1.7.15's own parser.
 *
 * The input is the JSON text, in a buffer of exactly its size (libFuzzer's),
 * without a NUL; cJSON reads a NUL-terminated copy, as ocpp_msg__parse once
 * gave it. abort() on any of:
 *   - json_tree_parse returns other than 0, -EINVAL or -ENOMEM, or -EINVAL
 *     with *out not NULL;
 *   - ours accepts and cJSON refuses;
 *   - ours accepts and the trees differ in any field: type, string (key),
 *     valuestring (as C strings: both end at a \u0000), valuedouble (bit for
 *     bit: both are strtod of the same text), valueint (which cJSON_Compare
 *     does not look at), the order of members and items, or the prev links
 *     (the first one's prev is the last one);
 *   - cJSON_Compare(ours, theirs) or (theirs, ours) says other than it says of
 *     two parses of cJSON's own (it finds those unequal when a number is
 *     infinite, inf - inf being NaN, or a key repeats with other values);
 *   - a second tree built while the first is alive (a block of its own)
 *     differs from it;
 *   - ours refuses a text that cJSON accepts and that is strict JSON.
 *
 * The last rule needs a judge of strictness that is not frame.c's scanner.
 * cJSON is laxer than RFC 8259 in exactly these ways (read from its parser,
 * 1.7.15), each of which ours refuses on purpose:
 *   1. any byte <= 0x20 is whitespace to cJSON (NUL and controls included),
 *      JSON's whitespace is only space, tab, LF and CR;
 *   2. a UTF-8 byte order mark before the text is skipped;
 *   3. strings may hold raw control characters (< 0x20);
 *   4. strings may hold bytes that are not UTF-8 (RFC 3629: no overlongs,
 *      surrogates or code points above U+10FFFF);
 *   5. a \u escape whose four characters are not all hex digits is U+0000
 *      to cJSON (its parse_hex4 returns 0), six bytes long: "\u00\u";
 *   6. a number, which must begin with '-' or a digit, is whatever strtod
 *      makes of the run of [0-9+-.eE] there: leading zeros, "1.", "-.5",
 *      "1.e3", "-+1"... where JSON's grammar is
 *      -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?;
 *   7. nesting up to 1000 levels, where ours allows FRAME_DEPTH_MAX (64).
 * fuzz__lax finds any of them in a text cJSON accepted, with its own small
 * lexer (strings, numbers, literals and brackets; cJSON has already checked
 * the rest).
 * Conversely, a text ours accepts must show none of them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "frame.h"
#include "json_tree.h"
#include "../unit/proxy/json_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz__check(bool ok)
{
    if (!ok)
        abort();
}

/* RFC 3629's length of the UTF-8 sequence at p, or 0 when it is not one. */
static size_t fuzz__utf8(const uint8_t *p, size_t avail)
{
    uint32_t cp;
    size_t n;

    if (p[0] < 0x80)
        return 1;
    n = p[0] >= 0xF0 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC0 ? 2 : 0;
    if (n == 0 || n > avail || p[0] >= 0xF8)
        return 0;
    cp = p[0] & (0x7F >> n);
    for (size_t k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (p[k] & 0x3F);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

/* Whether the number token p[0..n) breaks JSON's grammar. */
static bool fuzz__lax_number(const uint8_t *p, size_t n)
{
    size_t i = 0, d;

    if (i < n && p[i] == '-')
        i++;
    for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        ;
    if (i == d || (p[d] == '0' && i - d > 1))
        return true;
    if (i < n && p[i] == '.') {
        for (d = ++i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return true;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        for (d = i; i < n && p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == d)
            return true;
    }
    return i != n;
}

static bool fuzz__number_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

static bool fuzz__hex4(const uint8_t *p, size_t avail)
{
    if (avail < 4)
        return false;
    for (size_t k = 0; k < 4; k++)
        if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f') ||
              (p[k] >= 'A' && p[k] <= 'F')))
            return false;
    return true;
}

/* The end of the string whose opening quote is at p[i], or 0 when it holds a
 * raw control character, a byte that is not UTF-8 or a \u escape without four
 * hex digits (laxities 3 to 5). cJSON has checked the other escapes. */
static size_t fuzz__string_end(const uint8_t *p, size_t n, size_t i)
{
    for (i++; i < n && p[i] != '"'; ) {
        size_t k = fuzz__utf8(p + i, n - i);
        if (p[i] < 0x20 || k == 0)
            return 0;
        if (p[i] == '\\' && i + 1 < n && p[i + 1] == 'u' && !fuzz__hex4(p + i + 2, n - i - 2))
            return 0;
        i += p[i] == '\\' ? 2 : k;
    }
    return i + 1;
}

/* Whether a text cJSON accepted is one of its laxities (1 to 7 above). */
static bool fuzz__lax(const uint8_t *p, size_t n)
{
    size_t i = 0, depth = 0;

    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        return true;
    while (i < n) {
        uint8_t c = p[i];

        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return true;
        if (c == '"') {
            if ((i = fuzz__string_end(p, n, i)) == 0)
                return true;
        } else if (fuzz__number_byte(c)) {
            size_t start = i;
            while (i < n && fuzz__number_byte(p[i]))
                i++;
            if (fuzz__lax_number(p + start, i - start))
                return true;
        } else if (c >= 'a' && c <= 'z') { /* true, false, null: their 'e' is no number */
            while (i < n && p[i] >= 'a' && p[i] <= 'z')
                i++;
        } else {
            if ((c == '[' || c == '{') && ++depth > FRAME_DEPTH_MAX)
                return true;
            if (c == ']' || c == '}')
                depth--;
            i++;
        }
    }
    return false;
}

/* What cJSON_Compare says of ours against cJSON's, both ways, must be what
 * it says of two parses of its own. */
static void fuzz__compare(const cJSON *ours, const cJSON *theirs, const char *text, size_t size)
{
    cJSON *again = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    bool equal;

    fuzz__check(again != NULL);
    equal = cJSON_Compare(theirs, again, true);
    fuzz__check(cJSON_Compare(ours, theirs, true) == equal);
    fuzz__check(cJSON_Compare(theirs, ours, true) == equal);
    cJSON_Delete(again);
}

/* When the input is an OCPP-J frame, its payload built on the frame's value
 * count (the relay's path, no second validation) is the tree a full parse
 * of the payload makes. */
static void fuzz__frame_payload(const uint8_t *data, size_t size)
{
    struct frame f;
    cJSON *built, *parsed;

    if (frame_parse((const char *)data, size, &f) != FRAME_OK || f.payload.len == 0)
        return;
    fuzz__check(json_tree_parse(f.payload.ptr, f.payload.len, &parsed) == 0);
    fuzz__check(json_tree_build(f.payload.ptr, f.payload.len, f.values, &built) == 0);
    fuzz__check(json_same_tree(built, parsed));
    json_tree_release(built);
    json_tree_release(parsed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cJSON unset; /* what *out is before the call: -EINVAL must clear it */
    cJSON *ours = &unset, *second, *theirs;
    char *text = malloc(size + 1);
    int rc;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    theirs = cJSON_ParseWithLengthOpts(text, size + 1, NULL, 1);
    rc = json_tree_parse((const char *)data, size, &ours);
    fuzz__check(rc == 0 || rc == -EINVAL || rc == -ENOMEM);
    fuzz__check(rc == 0 || ours == NULL);
    if (rc == 0) {
        fuzz__check(theirs != NULL);
        fuzz__check(!fuzz__lax(data, size));
        fuzz__check(json_same_tree(ours, theirs));
        fuzz__compare(ours, theirs, text, size);
        /* A second tree while the first is alive, released first. */
        if (json_tree_parse((const char *)data, size, &second) == 0) {
            fuzz__check(second != ours && json_same_tree(second, theirs));
            json_tree_release(second);
        }
        fuzz__check(json_same_tree(ours, theirs));
        json_tree_release(ours);
    } else if (rc == -EINVAL && theirs) {
        fuzz__check(fuzz__lax(data, size));
    }
    fuzz__frame_payload(data, size);
    cJSON_Delete(theirs);
    free(text);
    return 0;
}
