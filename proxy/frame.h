/* OCPP-J message envelopes: parse once, write back.
 *
 *   [2, "<id>", "<Action>", {payload}]            CALL
 *   [3, "<id>", {payload}]                        CALLRESULT
 *   [4, "<id>", "<errorCode>", "<desc>", {details}] CALLERROR
 *
 * frame_parse validates the whole text as JSON (UTF-8, bounded nesting, no
 * trailing bytes) without allocating, decodes the id, action and error code,
 * and points at the payload's raw text inside the caller's buffer, so a relay
 * can forward the original bytes and only the code that needs a payload's
 * contents parses it further.
 *
 * frame_json_valid applies the same rules to any JSON text, and counts what a
 * tree of it needs; frame_json_string decodes one of its strings.
 */
#ifndef SITEGATE_FRAME_H
#define SITEGATE_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#define FRAME_ID_MAX 36      /* OCPP-J: a message id is at most 36 characters */
#define FRAME_NAME_MAX 64    /* action names and error codes */
#define FRAME_DEPTH_MAX 64   /* OCPP payloads nest a handful of levels */

enum ocpp_version { OCPP_16, OCPP_201 };

enum frame_type { FRAME_CALL = 2, FRAME_RESULT = 3, FRAME_ERROR = 4 };

/* A piece of the parsed buffer: raw JSON text (a string's quotes included). */
struct frame_span {
    const char *ptr;
    size_t len;
};

struct frame {
    enum frame_type type;
    char id[FRAME_ID_MAX + 1];
    char action[FRAME_NAME_MAX + 1];     /* CALL */
    char error_code[FRAME_NAME_MAX + 1]; /* CALLERROR */
    struct frame_span payload;           /* CALL/CALLRESULT payload; CALLERROR errorDetails */
    struct frame_span error_description; /* CALLERROR */
    size_t values;                       /* in the whole text: a bound for the payload's
                                            (json_tree_build) */
};

/* Why a message was refused. */
enum frame_fault {
    FRAME_OK = 0,
    FRAME_FAULT_SYNTAX,       /* not JSON, bad UTF-8, nested too deep, trailing bytes */
    FRAME_FAULT_NOT_ARRAY,    /* valid JSON, but not an array */
    FRAME_FAULT_BAD_TYPE,     /* the message type is missing or not an integer */
    FRAME_FAULT_UNKNOWN_TYPE, /* an integer other than 2, 3 or 4 */
    FRAME_FAULT_BAD_ID,       /* the id is missing, not a string, empty or too long */
    FRAME_FAULT_STRUCTURE,    /* wrong number or kinds of elements for the type */
};

/* Parses one message of len bytes (no NUL needed; nothing past len is read;
 * nothing is allocated). Syntax is checked first, then the envelope. On a
 * fault, out->type and out->id are still filled in when they could be read,
 * so the caller can answer: out->type is 0 when the type was missing, not an
 * integer or unknown, and out->id is "" when the id was unreadable or invalid.
 * The spans point into buf. Lengths of id, action and error code are counted
 * in bytes of the decoded UTF-8, and a decoded U+0000 is refused in them. */
enum frame_fault frame_parse(const char *buf, size_t len, struct frame *out);

/* What frame_json_valid counts in a text, for a reader that builds a tree of
 * it (json_tree.c) with one allocation. */
struct frame_json_size {
    size_t values;     /* every value: containers, members' values, array items */
    size_t text_bytes; /* strings and member names decoded, a NUL after each */
};

/* Whether buf[0..len) is one JSON text by frame_parse's syntax rules (UTF-8,
 * nesting <= FRAME_DEPTH_MAX, nothing but whitespace after it), whatever its
 * shape; when it is and size is not NULL, its counts. Nothing past len is
 * read; nothing is allocated. */
bool frame_json_valid(const char *buf, size_t len, struct frame_json_size *size);

/* Decodes the string whose opening quote is at buf[*pos] (escapes and
 * surrogate pairs to UTF-8, a NUL after it) into dst, which has room for
 * its decoded length + 1 (frame_json_valid counted them), sets *dlen to that
 * length and moves *pos past the closing quote. false when there is no valid
 * string at *pos. */
bool frame_json_string(const char *buf, size_t len, size_t *pos, char *dst, size_t *dlen);

/* Whether s[0..len) is UTF-8 (RFC 3629), as the bytes of a string must be
 * for frame_parse: for writers that put text from elsewhere into JSON. */
bool frame_utf8_valid(const char *s, size_t len);

/* A short description of a fault, for logs. */
const char *frame_fault_str(enum frame_fault fault);

/* The CALLERROR errorCode that OCPP-J names for a fault in this version, or
 * NULL when the message must not be answered (no fault; a broken
 * CALLRESULT/CALLERROR; in 1.6, an unreadable id). NULL exactly when
 * frame_fault_reply_id is NULL. The mapping table is at the top of frame.c. */
const char *frame_fault_code(enum frame_fault fault, const struct frame *parsed,
                             enum ocpp_version version);

/* The id to answer a faulty message with: its own when readable (a pointer
 * into parsed), else what the version prescribes ("-1" in 2.0.1), or NULL when
 * it must not be answered. */
const char *frame_fault_reply_id(enum frame_fault fault, const struct frame *parsed,
                                 enum ocpp_version version);

/* Writers: put one message into buf, NUL-terminated, and return its length
 * (without the NUL), or -ENOSPC when it and the NUL do not fit in cap bytes
 * (nothing is written past cap; buf is then ""). Strings are JSON-escaped
 * (", \\ and control characters; UTF-8 is copied as is); payloads are raw
 * JSON copied verbatim, "{}" when NULL or empty; a NULL description is "".
 * -EINVAL when the id is not 1..FRAME_ID_MAX bytes or the action/code not
 * 1..FRAME_NAME_MAX bytes, as the peer's parser would refuse the message. */
int frame_write_call(char *buf, size_t cap, const char *id, const char *action,
                     const char *payload, size_t payload_len);
int frame_write_result(char *buf, size_t cap, const char *id,
                       const char *payload, size_t payload_len);
int frame_write_error(char *buf, size_t cap, const char *id, const char *code,
                      const char *description);

/* "ocpp1.6" and "ocpp2.0.1": the WebSocket subprotocol of each version. */
bool ocpp_version_from_subprotocol(const char *name, enum ocpp_version *out);
const char *ocpp_version_subprotocol(enum ocpp_version version);

#endif
