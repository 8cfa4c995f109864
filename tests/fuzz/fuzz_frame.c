/* libFuzzer target for the OCPP-J envelope parser and writers (proxy/frame.c).
 *
 * Any input: parsing must not crash or read past size (ASan), and the answer
 * a fault gets must be consistent and writable. An input that parses: written
 * back with the writers and parsed again, type, id, action, error code and
 * payload bytes must survive the round trip; abort() otherwise.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../proxy/frame.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz__check(int ok)
{
    if (!ok)
        abort();
}

static int fuzz__span_inside(struct frame_span span, const char *buf, size_t len)
{
    return span.ptr >= buf && span.len <= len && (size_t)(span.ptr - buf) <= len - span.len;
}

/* The CALLERROR a fault would get, written and parsed back. */
static void fuzz__check_reply(enum frame_fault fault, const struct frame *f,
                              enum ocpp_version version)
{
    const char *code = frame_fault_code(fault, f, version);
    const char *id = frame_fault_reply_id(fault, f, version);
    char buf[512];
    struct frame r;
    int n;

    fuzz__check((code == NULL) == (id == NULL));
    if (!code)
        return;
    fuzz__check(f->type != FRAME_RESULT && f->type != FRAME_ERROR);
    n = frame_write_error(buf, sizeof buf, id, code, frame_fault_str(fault));
    fuzz__check(n > 0 && (size_t)n < sizeof buf);
    fuzz__check(frame_parse(buf, (size_t)n, &r) == FRAME_OK);
    fuzz__check(r.type == FRAME_ERROR && strcmp(r.id, id) == 0 &&
                strcmp(r.error_code, code) == 0);
}

/* Writes a parsed frame back with the writer of its type. */
static int fuzz__write(const struct frame *f, char *buf, size_t cap)
{
    if (f->type == FRAME_CALL)
        return frame_write_call(buf, cap, f->id, f->action, f->payload.ptr, f->payload.len);
    if (f->type == FRAME_RESULT)
        return frame_write_result(buf, cap, f->id, f->payload.ptr, f->payload.len);
    return frame_write_error(buf, cap, f->id, f->error_code, "round trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    struct frame f, g;
    enum frame_fault fault = frame_parse(in, size, &f);
    size_t cap;
    char *buf;
    int n;

    fuzz__check(f.type == 0 || f.type == FRAME_CALL || f.type == FRAME_RESULT ||
                f.type == FRAME_ERROR);
    fuzz__check(strlen(f.id) <= FRAME_ID_MAX);
    fuzz__check_reply(fault, &f, OCPP_16);
    fuzz__check_reply(fault, &f, OCPP_201);
    if (fault != FRAME_OK)
        return 0;

    fuzz__check(f.id[0] != '\0' && fuzz__span_inside(f.payload, in, size));
    fuzz__check(f.payload.len >= 2 && f.payload.ptr[0] == '{' &&
                f.payload.ptr[f.payload.len - 1] == '}');
    if (f.type == FRAME_ERROR)
        fuzz__check(fuzz__span_inside(f.error_description, in, size) &&
                    f.error_description.len >= 2 && f.error_description.ptr[0] == '"');

    /* Escaping grows a byte to at most six; the names are short. */
    cap = f.payload.len + 6 * (FRAME_ID_MAX + 2 * FRAME_NAME_MAX) + 64;
    buf = malloc(cap);
    fuzz__check(buf != NULL);
    n = fuzz__write(&f, buf, cap);
    fuzz__check(n > 0 && (size_t)n < cap && buf[n] == '\0');

    fuzz__check(frame_parse(buf, (size_t)n, &g) == FRAME_OK);
    fuzz__check(g.type == f.type);
    fuzz__check(strcmp(g.id, f.id) == 0);
    fuzz__check(strcmp(g.action, f.action) == 0);
    fuzz__check(strcmp(g.error_code, f.error_code) == 0);
    if (f.type == FRAME_ERROR)
        fuzz__check(g.payload.len == 2 && g.error_description.len == 12);
    else
        fuzz__check(g.payload.len == f.payload.len &&
                    memcmp(g.payload.ptr, f.payload.ptr, f.payload.len) == 0);

    /* One byte short of room (for the NUL) must be refused, not truncated. */
    fuzz__check(fuzz__write(&f, buf, (size_t)n) == -ENOSPC);
    free(buf);
    return 0;
}
