/* OCPP-J envelopes: a strict, allocation-free JSON scanner that remembers the
 * top-level array's elements, and writers for the three message types. The
 * scanner also validates other JSON texts (frame_json_valid) for the payload
 * readers' tree (json_tree.c), counting the values and string bytes it needs.
 *
 * Which CALLERROR a faulty message gets
 * -------------------------------------
 * Sources: OCPP-J 1.6 specification (2015-10-08) section 4.1.3 (message
 * types), 4.1.4 (message id, 36 characters), 4.2.3 (CallError) and Table 7
 * (valid error codes); OCPP 2.0.1 Edition 3 Part 4 (2024-05-06) section 4.1.3,
 * 4.1.4, 4.2.3 ("When also the MessageId cannot be read, the CALLERROR SHALL
 * contain "-1" as MessageId"), 4.3 Table 8 (RPC Framework Error Codes) and 4.4
 * (an unknown message type SHALL be answered with MessageTypeNotSupported).
 *
 *   fault         1.6 errorCode           2.0.1 errorCode
 *   SYNTAX        FormationViolation      FormatViolation when the id was read,
 *                                         else RpcFrameworkError
 *   NOT_ARRAY     FormationViolation      RpcFrameworkError
 *   BAD_TYPE      FormationViolation      RpcFrameworkError
 *   UNKNOWN_TYPE  GenericError (1)        MessageTypeNotSupported (4.4)
 *   BAD_ID        FormationViolation      RpcFrameworkError
 *   STRUCTURE     FormationViolation      RpcFrameworkError
 *
 *   reply id: the message's own id when it was read; otherwise "-1" in 2.0.1
 *   (4.2.3) and no answer at all in 1.6, which has no such rule (an answer
 *   nobody can match is noise). A message whose type was read as CALLRESULT
 *   or CALLERROR is never answered, whatever its fault: CallError exists to
 *   answer a Call (1.6 and 2.0.1 section 4.2.3). A message whose type could
 *   not be read (or is unknown) is answered, as it may have been a CALL.
 *   frame_fault_code and frame_fault_reply_id are NULL in exactly the same
 *   cases, so a caller may test either.
 *
 *   (1) 1.6 only says a receiver "SHALL ignore the message payload" of an
 *   unknown type (4.1.3) and has no code for it; GenericError is its "any
 *   other error" code. 1.6's FormationViolation covers "syntactically
 *   incorrect or not conform the PDU structure"; 2.0.1 split that into
 *   FormatViolation (syntax) and RpcFrameworkError ("not a valid RPC Request,
 *   for example: MessageId could not be read"), which fits envelope faults.
 *
 * Lengths of the id, action and error code are counted in bytes of the decoded
 * UTF-8 (the buffers in struct frame are sized in bytes; ids are ASCII UUIDs in
 * practice). A decoded U+0000 is refused in them, as it would cut a C string.
 */
#include "frame.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

enum frame__kind { FRAME__NONE, FRAME__OBJECT, FRAME__ARRAY, FRAME__STRING,
                   FRAME__NUMBER, FRAME__LITERAL };

/* One element of the top-level array, as the scanner saw it. */
struct frame__elem {
    unsigned char kind;
    bool done;        /* scanned to its end without a fault */
    bool integer;     /* a number without fraction or exponent */
    int msg_type;     /* 2, 3 or 4 when the number is exactly that, else 0 */
    bool nul;         /* a string whose decoded text holds U+0000 */
    size_t dlen;      /* a string's decoded length in bytes */
    size_t start, end;
};

/* A CALLERROR, the longest envelope, has five elements: later ones are only counted. */
#define FRAME__ELEMS 5

/* The text being read and where: all that the readers of one token need. */
struct frame__text {
    const unsigned char *p;
    size_t len, pos;
};

struct frame__scan {
    struct frame__text t;
    size_t values;     /* values begun, containers included */
    size_t text_bytes; /* strings and member names decoded, a NUL after each */
    unsigned char stack[FRAME_DEPTH_MAX]; /* '[' or '{' per open container */
    size_t depth;
    bool top_array;
    size_t count; /* elements of the top-level array completed */
    struct frame__elem el[FRAME__ELEMS];
    char id[FRAME_ID_MAX + 1];     /* element 1, decoded */
    char name[FRAME_NAME_MAX + 1]; /* element 2, decoded: action or error code */
};

/* What a byte may be, for the two loops that see most of the bytes. */
enum {
    FRAME__WS = 1,    /* JSON whitespace */
    FRAME__PLAIN = 2, /* stands for itself in a string: ASCII, not a control, quote or backslash */
};
#define WS FRAME__WS
#define PL FRAME__PLAIN
static const unsigned char frame__class[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, WS, WS, 0, 0, WS, 0, 0,
    /* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20 */ WS | PL, PL, 0, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, /* '"' */
    /* 0x30 */ PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL,
    /* 0x40 */ PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL,
    /* 0x50 */ PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, 0, PL, PL, PL, /* '\\' */
    /* 0x60 */ PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL,
    /* 0x70 */ PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL, PL,
    /* 0x80..0xFF: 0, UTF-8 is checked sequence by sequence */
};
#undef WS
#undef PL

static inline void frame__skip_ws(struct frame__text *t)
{
    while (t->pos < t->len && (frame__class[t->p[t->pos]] & FRAME__WS))
        t->pos++;
}

/* Length of the valid UTF-8 sequence (2-4 bytes) at p, or 0. Overlongs, UTF-16
 * surrogates and code points above U+10FFFF are refused (RFC 3629 section 4). */
static size_t frame__utf8_len(const unsigned char *p, size_t avail)
{
    unsigned char c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;

    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((p[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

static size_t frame__utf8_encode(uint32_t cp, unsigned char *u)
{
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    static const unsigned char lead[] = { 0, 0, 0xC0, 0xE0, 0xF0 };

    for (size_t k = n - 1; k > 0; k--, cp >>= 6)
        u[k] = (unsigned char)(0x80 | (cp & 0x3F));
    u[0] = (unsigned char)(lead[n] | cp);
    return n;
}

static bool frame__hex4(const struct frame__text *t, size_t at, uint32_t *out)
{
    uint32_t v = 0;

    if (at > t->len || t->len - at < 4)
        return false;
    for (size_t k = 0; k < 4; k++) {
        unsigned char c = t->p[at + k];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

/* The escape whose backslash is at *at: its code point, and *at moved past it.
 * A surrogate must come as a high-low pair of \u escapes (RFC 8259 section 7). */
static bool frame__scan_escape(const struct frame__text *t, size_t *at, uint32_t *cp)
{
    size_t i = *at + 1; /* the letter after the backslash */
    uint32_t hi, lo;

    if (i >= t->len)
        return false;
    if (t->p[i] != 'u') {
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *hit = memchr(from, t->p[i], sizeof from - 1);
        if (!hit)
            return false;
        *cp = (unsigned char)to[hit - from];
        *at = i + 1;
        return true;
    }
    if (!frame__hex4(t, i + 1, &hi))
        return false;
    i += 4;
    if (hi >= 0xDC00 && hi <= 0xDFFF)
        return false;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (i + 2 >= t->len || t->p[i + 1] != '\\' || t->p[i + 2] != 'u' ||
            !frame__hex4(t, i + 3, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return false;
        i += 6;
        hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    *cp = hi;
    *at = i + 1;
    return true;
}

/* Validates the string whose opening quote is at t->pos and moves past it.
 * Its decoded text goes to dst (up to cap bytes, NUL-terminated when it fits;
 * dst may be NULL): a huge string is checked but never copied. *dlen is its
 * decoded length in bytes, and *has_nul whether a U+0000 is among them. */
static bool frame__scan_string(struct frame__text *t, char *dst, size_t cap,
                               size_t *dlen, bool *has_nul)
{
    size_t i = t->pos + 1, n = 0;
    bool nul = false;

    for (;;) {
        unsigned char u[4];
        const unsigned char *src = u;
        size_t k;
        uint32_t cp;

        if (i >= t->len)
            return false;
        unsigned char c = t->p[i];
        if (c == '"')
            break;
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (!frame__scan_escape(t, &i, &cp))
                return false;
            nul |= cp == 0;
            k = frame__utf8_encode(cp, u);
        } else if (c < 0x80) {
            /* A run of plain ASCII, most of any text, goes in one piece. */
            src = t->p + i;
            for (k = 1; i + k < t->len && (frame__class[t->p[i + k]] & FRAME__PLAIN); k++)
                ;
            i += k;
        } else {
            k = frame__utf8_len(t->p + i, t->len - i);
            if (k == 0)
                return false;
            src = t->p + i;
            i += k;
        }
        if (dst && n + k <= cap)
            memcpy(dst + n, src, k);
        n += k; /* decoding never lengthens the text, so this cannot wrap */
    }
    if (dst && n <= cap)
        dst[n] = '\0';
    *dlen = n;
    *has_nul = nul;
    t->pos = i + 1;
    return true;
}

/* The index past the run of digits at i. */
static size_t frame__digits(const struct frame__text *t, size_t i)
{
    while (i < t->len && t->p[i] >= '0' && t->p[i] <= '9')
        i++;
    return i;
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool frame__scan_number(struct frame__text *t, struct frame__elem *e)
{
    const unsigned char *p = t->p;
    size_t i = t->pos, first, end;
    bool integer = true;

    if (i < t->len && p[i] == '-')
        i++;
    first = i;
    end = frame__digits(t, i);
    if (end == i || (p[i] == '0' && end > i + 1))
        return false;
    i = end;
    if (i < t->len && p[i] == '.') {
        integer = false;
        if ((end = frame__digits(t, i + 1)) == i + 1)
            return false;
        i = end;
    }
    if (i < t->len && (p[i] == 'e' || p[i] == 'E')) {
        integer = false;
        if (++i < t->len && (p[i] == '+' || p[i] == '-'))
            i++;
        if ((end = frame__digits(t, i)) == i)
            return false;
        i = end;
    }
    if (e) {
        e->kind = FRAME__NUMBER;
        e->integer = integer;
        /* strict grammar: "2" is the only spelling of the integer 2 */
        e->msg_type = integer && first == t->pos && i - first == 1 &&
                      p[first] >= '2' && p[first] <= '4' ? p[first] - '0' : 0;
    }
    t->pos = i;
    return true;
}

static bool frame__scan_literal(struct frame__text *t, struct frame__elem *e)
{
    static const char *const words[] = { "true", "false", "null" };

    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t n = strlen(words[w]);
        if (t->len - t->pos >= n && memcmp(t->p + t->pos, words[w], n) == 0) {
            if (e)
                e->kind = FRAME__LITERAL;
            t->pos += n;
            return true;
        }
    }
    return false;
}

/* An object member's name and its colon; s->t.pos is left on the value. */
static bool frame__scan_key(struct frame__scan *s)
{
    size_t dlen;
    bool nul;

    frame__skip_ws(&s->t);
    if (s->t.pos >= s->t.len || s->t.p[s->t.pos] != '"' ||
        !frame__scan_string(&s->t, NULL, 0, &dlen, &nul))
        return false;
    s->text_bytes += dlen + 1;
    frame__skip_ws(&s->t);
    if (s->t.pos >= s->t.len || s->t.p[s->t.pos] != ':')
        return false;
    s->t.pos++;
    return true;
}

/* A string value; decoded into s->id or s->name when it is element 1 or 2
 * of the top-level array. */
static bool frame__scan_value_string(struct frame__scan *s, struct frame__elem *e)
{
    bool is_id = e && s->count == 1, is_name = e && s->count == 2;
    size_t dlen;
    bool nul;

    if (!frame__scan_string(&s->t, is_id ? s->id : is_name ? s->name : NULL,
                            is_id ? FRAME_ID_MAX : FRAME_NAME_MAX, &dlen, &nul))
        return false;
    s->text_bytes += dlen + 1;
    if (e) {
        e->kind = FRAME__STRING;
        e->dlen = dlen;
        e->nul = nul;
    }
    return true;
}

/* The element of the top-level array that starts here, or NULL past the fifth. */
static struct frame__elem *frame__elem_begin(struct frame__scan *s)
{
    if (s->count >= FRAME__ELEMS)
        return NULL;
    s->el[s->count].start = s->t.pos;
    return &s->el[s->count];
}

static void frame__elem_end(struct frame__scan *s)
{
    if (s->count < FRAME__ELEMS) {
        s->el[s->count].end = s->t.pos;
        s->el[s->count].done = true;
    }
    s->count++;
}

/* Validates the whole buffer as one JSON text. Iterative, with an explicit
 * stack bounded by FRAME_DEPTH_MAX, so hostile nesting costs neither stack nor
 * time. Elements of a top-level array are recorded as they complete, so that
 * the type and id are known even when a later byte is at fault. */
static bool frame__scan(struct frame__scan *s)
{
    for (;;) {
        struct frame__elem *e = NULL;
        unsigned char c;
        bool ok;

        frame__skip_ws(&s->t); /* a value is due here */
        if (s->t.pos >= s->t.len)
            return false;
        s->values++;
        if (s->depth == 1 && s->top_array)
            e = frame__elem_begin(s);
        c = s->t.p[s->t.pos];
        if (c == '[' || c == '{') {
            if (s->depth == FRAME_DEPTH_MAX)
                return false;
            if (e)
                e->kind = c == '[' ? FRAME__ARRAY : FRAME__OBJECT;
            if (s->depth == 0)
                s->top_array = c == '[';
            s->stack[s->depth++] = c;
            s->t.pos++;
            frame__skip_ws(&s->t);
            if (s->t.pos >= s->t.len)
                return false;
            if (s->t.p[s->t.pos] != (c == '[' ? ']' : '}')) {
                if (c == '{' && !frame__scan_key(s))
                    return false;
                continue; /* to the container's first value */
            }
            s->depth--;
            s->t.pos++;
            ok = true;
        } else if (c == '"') {
            ok = frame__scan_value_string(s, e);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            ok = frame__scan_number(&s->t, e);
        } else {
            ok = frame__scan_literal(&s->t, e);
        }
        if (!ok)
            return false;

        /* A value ended: close every container that ends with it. */
        for (;;) {
            unsigned char open;

            if (s->depth == 1 && s->top_array)
                frame__elem_end(s);
            frame__skip_ws(&s->t);
            if (s->depth == 0)
                return s->t.pos == s->t.len; /* nothing but whitespace may follow */
            if (s->t.pos >= s->t.len)
                return false;
            c = s->t.p[s->t.pos];
            open = s->stack[s->depth - 1];
            if (c == ',') {
                s->t.pos++;
                if (open == '{' && !frame__scan_key(s))
                    return false;
                break;
            }
            if (c != (open == '[' ? ']' : '}'))
                return false;
            s->depth--;
            s->t.pos++;
        }
    }
}

/* Whether element i is a finished string of 1..max decoded bytes without U+0000. */
static bool frame__elem_name(const struct frame__scan *s, size_t i, size_t max)
{
    const struct frame__elem *e = &s->el[i];

    return i < s->count && e->done && e->kind == FRAME__STRING && e->dlen >= 1 &&
           e->dlen <= max && !e->nul;
}

static bool frame__elem_is(const struct frame__scan *s, size_t i, enum frame__kind kind)
{
    return i < s->count && s->el[i].done && s->el[i].kind == kind;
}

static struct frame_span frame__span(const struct frame__scan *s, size_t i)
{
    struct frame_span span = { (const char *)s->t.p + s->el[i].start,
                               s->el[i].end - s->el[i].start };
    return span;
}

enum frame_fault frame_parse(const char *buf, size_t len, struct frame *out)
{
    struct frame scratch;
    struct frame__scan s;
    bool syntax_ok, id_ok;
    int type;

    if (!out)
        out = &scratch;
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    s.t.p = (const unsigned char *)buf;
    s.t.len = buf ? len : 0;

    syntax_ok = frame__scan(&s);

    /* The type and id are handed out even for a faulty message: the reply needs them. */
    type = frame__elem_is(&s, 0, FRAME__NUMBER) ? s.el[0].msg_type : 0;
    id_ok = frame__elem_name(&s, 1, FRAME_ID_MAX);
    if (s.top_array && type)
        out->type = (enum frame_type)type;
    if (s.top_array && id_ok)
        memcpy(out->id, s.id, s.el[1].dlen + 1);

    if (!syntax_ok)
        return FRAME_FAULT_SYNTAX;
    out->values = s.values;
    if (!s.top_array)
        return FRAME_FAULT_NOT_ARRAY;
    if (!frame__elem_is(&s, 0, FRAME__NUMBER) || !s.el[0].integer)
        return FRAME_FAULT_BAD_TYPE;
    if (!type)
        return FRAME_FAULT_UNKNOWN_TYPE;
    if (!id_ok)
        return FRAME_FAULT_BAD_ID;

    switch (type) {
    case FRAME_CALL:
        if (s.count != 4 || !frame__elem_name(&s, 2, FRAME_NAME_MAX) ||
            !frame__elem_is(&s, 3, FRAME__OBJECT))
            return FRAME_FAULT_STRUCTURE;
        memcpy(out->action, s.name, s.el[2].dlen + 1);
        out->payload = frame__span(&s, 3);
        break;
    case FRAME_RESULT:
        if (s.count != 3 || !frame__elem_is(&s, 2, FRAME__OBJECT))
            return FRAME_FAULT_STRUCTURE;
        out->payload = frame__span(&s, 2);
        break;
    default:
        if (s.count != 5 || !frame__elem_name(&s, 2, FRAME_NAME_MAX) ||
            !frame__elem_is(&s, 3, FRAME__STRING) || !frame__elem_is(&s, 4, FRAME__OBJECT))
            return FRAME_FAULT_STRUCTURE;
        memcpy(out->error_code, s.name, s.el[2].dlen + 1);
        out->error_description = frame__span(&s, 3);
        out->payload = frame__span(&s, 4);
        break;
    }
    return FRAME_OK;
}

bool frame_json_valid(const char *buf, size_t len, struct frame_json_size *size)
{
    struct frame__scan s;

    memset(&s, 0, sizeof s);
    s.t.p = (const unsigned char *)buf;
    s.t.len = buf ? len : 0;
    if (!frame__scan(&s))
        return false;
    if (size) {
        size->values = s.values;
        size->text_bytes = s.text_bytes;
    }
    return true;
}

bool frame_json_string(const char *buf, size_t len, size_t *pos, char *dst, size_t *dlen)
{
    struct frame__text t = { (const unsigned char *)buf, len, *pos };
    bool nul;

    if (t.pos >= len || buf[t.pos] != '"' || !frame__scan_string(&t, dst, SIZE_MAX, dlen, &nul))
        return false;
    *pos = t.pos;
    return true;
}

bool frame_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0, k; i < len; i += k) {
        k = p[i] < 0x80 ? 1 : frame__utf8_len(p + i, len - i);
        if (k == 0)
            return false;
    }
    return true;
}

const char *frame_fault_str(enum frame_fault fault)
{
    static const char *const text[] = {
        [FRAME_OK] = "ok",
        [FRAME_FAULT_SYNTAX] = "not valid JSON (syntax, UTF-8, nesting or trailing bytes)",
        [FRAME_FAULT_NOT_ARRAY] = "not a JSON array",
        [FRAME_FAULT_BAD_TYPE] = "message type missing or not an integer",
        [FRAME_FAULT_UNKNOWN_TYPE] = "unknown message type",
        [FRAME_FAULT_BAD_ID] = "message id missing, not a string, empty or too long",
        [FRAME_FAULT_STRUCTURE] = "wrong number or kinds of elements for the message type",
    };

    if ((unsigned)fault >= sizeof text / sizeof text[0])
        return "unknown fault";
    return text[fault];
}

/* Whether a fault is to be answered at all; see the table at the top. */
static bool frame__answered(enum frame_fault fault, const struct frame *parsed,
                            enum ocpp_version version)
{
    if (fault == FRAME_OK || (version != OCPP_16 && version != OCPP_201))
        return false;
    if (parsed && (parsed->type == FRAME_RESULT || parsed->type == FRAME_ERROR))
        return false;
    return version == OCPP_201 || (parsed && parsed->id[0] != '\0');
}

const char *frame_fault_code(enum frame_fault fault, const struct frame *parsed,
                             enum ocpp_version version)
{
    bool v16 = version == OCPP_16;

    if (!frame__answered(fault, parsed, version))
        return NULL;
    switch (fault) {
    case FRAME_FAULT_UNKNOWN_TYPE:
        return v16 ? "GenericError" : "MessageTypeNotSupported";
    case FRAME_FAULT_SYNTAX:
        if (!v16 && parsed && parsed->id[0] != '\0')
            return "FormatViolation";
        break;
    default:
        break;
    }
    return v16 ? "FormationViolation" : "RpcFrameworkError";
}

const char *frame_fault_reply_id(enum frame_fault fault, const struct frame *parsed,
                                 enum ocpp_version version)
{
    if (!frame__answered(fault, parsed, version))
        return NULL;
    return parsed && parsed->id[0] != '\0' ? parsed->id : "-1";
}

/* Output that counts what it would write and never goes past cap - 1, so that
 * the terminating NUL always has room. */
struct frame__out {
    char *buf;
    size_t cap, len;
    bool full;
};

static void frame__put(struct frame__out *o, const char *src, size_t n)
{
    if (o->full || o->cap == 0 || n > o->cap - 1 - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, src, n);
    o->len += n;
}

static void frame__put_str(struct frame__out *o, const char *str)
{
    frame__put(o, str, strlen(str));
}

/* A JSON string: quotes, backslashes and control characters escaped, other
 * bytes (UTF-8 included) copied as they are. */
static void frame__put_quoted(struct frame__out *o, const char *str)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = str;

    frame__put(o, "\"", 1);
    for (const char *c = str; *c; c++) {
        unsigned char u = (unsigned char)*c;
        char esc[6];
        size_t n;

        if (u == '"' || u == '\\') {
            esc[0] = '\\';
            esc[1] = (char)u;
            n = 2;
        } else if (u < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[u >> 4];
            esc[5] = hex[u & 0xF];
            n = 6;
        } else {
            continue;
        }
        frame__put(o, run, (size_t)(c - run));
        frame__put(o, esc, n);
        run = c + 1;
    }
    frame__put_str(o, run);
    frame__put(o, "\"", 1);
}

static bool frame__name_ok(const char *str, size_t max)
{
    size_t n;

    if (!str)
        return false;
    n = strlen(str);
    return n >= 1 && n <= max;
}

/* The three writers in one: name is the action or error code, and a
 * CALLERROR has a description where the others have a payload. */
static int frame__write(char *buf, size_t cap, enum frame_type type, const char *id,
                        const char *name, const char *payload, size_t payload_len,
                        const char *description)
{
    struct frame__out o = { buf, buf ? cap : 0, 0, false };
    char head[] = { '[', (char)('0' + type), ',' };

    if (!frame__name_ok(id, FRAME_ID_MAX) ||
        (type != FRAME_RESULT && !frame__name_ok(name, FRAME_NAME_MAX)))
        return -EINVAL;
    frame__put(&o, head, sizeof head);
    frame__put_quoted(&o, id);
    frame__put(&o, ",", 1);
    if (type != FRAME_RESULT) {
        frame__put_quoted(&o, name);
        frame__put(&o, ",", 1);
    }
    if (type == FRAME_ERROR) {
        frame__put_quoted(&o, description ? description : "");
        frame__put_str(&o, ",{}");
    } else if (payload && payload_len > 0) {
        frame__put(&o, payload, payload_len);
    } else {
        frame__put_str(&o, "{}");
    }
    frame__put(&o, "]", 1);
    if (o.full || o.len > INT_MAX) {
        if (o.cap > 0)
            o.buf[0] = '\0';
        return -ENOSPC;
    }
    o.buf[o.len] = '\0';
    return (int)o.len;
}

int frame_write_call(char *buf, size_t cap, const char *id, const char *action,
                     const char *payload, size_t payload_len)
{
    return frame__write(buf, cap, FRAME_CALL, id, action, payload, payload_len, NULL);
}

int frame_write_result(char *buf, size_t cap, const char *id,
                       const char *payload, size_t payload_len)
{
    return frame__write(buf, cap, FRAME_RESULT, id, NULL, payload, payload_len, NULL);
}

int frame_write_error(char *buf, size_t cap, const char *id, const char *code,
                      const char *description)
{
    return frame__write(buf, cap, FRAME_ERROR, id, code, NULL, 0, description);
}

bool ocpp_version_from_subprotocol(const char *name, enum ocpp_version *out)
{
    enum ocpp_version v;

    if (!name)
        return false;
    if (strcmp(name, "ocpp1.6") == 0)
        v = OCPP_16;
    else if (strcmp(name, "ocpp2.0.1") == 0)
        v = OCPP_201;
    else
        return false;
    if (out)
        *out = v;
    return true;
}

const char *ocpp_version_subprotocol(enum ocpp_version version)
{
    switch (version) {
    case OCPP_16: return "ocpp1.6";
    case OCPP_201: return "ocpp2.0.1";
    }
    return NULL;
}
