/* Unit tests of the OCPP-J envelope parser and writers (proxy/frame.c).
 *
 * Every parse goes through a heap copy of exactly the input's length, so that
 * under AddressSanitizer a read past len is caught, not just wrong.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "test.h"

#include "../../../proxy/frame.c"

/* Parses a copy of buf[0..len) held in a buffer of exactly len bytes. The
 * spans in *out point into the copy, which is kept until the next call. */
static char *parse_copy;

static enum frame_fault parse_n(const char *buf, size_t len, struct frame *out)
{
    char *copy;

    free(parse_copy);
    copy = malloc(len ? len : 1);
    if (!copy)
        abort();
    if (len)
        memcpy(copy, buf, len);
    parse_copy = copy;
    return frame_parse(copy, len, out);
}

static enum frame_fault parse(const char *text, struct frame *out)
{
    return parse_n(text, strlen(text), out);
}

/* Whether a span holds exactly this text. */
static int span_is(struct frame_span span, const char *text)
{
    return span.ptr && span.len == strlen(text) && memcmp(span.ptr, text, span.len) == 0;
}

static const char boot16[] =
    "[2,\"19223201\",\"BootNotification\","
    "{\"chargePointVendor\": \"VendorX\", \"chargePointModel\": \"SingleSocketCharger\"}]";

static const char boot201[] =
    "[\n 2,\n \"19223201\",\n \"BootNotification\",\n {\n"
    "  \"reason\": \"PowerUp\",\n"
    "  \"chargingStation\": {\n      \"model\": \"SingleSocketCharger\",\n"
    "      \"vendorName\": \"VendorX\"\n  }\n }\n]";

static const char result16[] =
    "[3,\"19223201\",{\"status\":\"Accepted\", \"currentTime\":\"2013-02-01T20:53:32.486Z\","
    " \"heartbeatInterval\":300}]";

static const char error201[] =
    "[4,\"162376037\",\"NotSupported\",\"SetDisplayMessageRequest not implemented\","
    "{\"detail\":[1,2.5e3,true,null,\"\\u00e9\"]}]";

/* Valid frames without trailing whitespace: every proper prefix is invalid JSON. */
static const char *const valid_frames[] = {
    boot16, boot201, result16, error201,
    "[2,\"hb-1\",\"Heartbeat\",{}]",
    "[3,\"hb-1\",{\"currentTime\":\"2024-01-01T00:00:00Z\"}]",
    "[4,\"x\",\"GenericError\",\"\",{}]",
    "[2,\"a\\\"b\\u00e9\\ud83d\\ude00\",\"DataTransfer\",{\"data\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}]",
    "[2,\"id\",\"MeterValues\",{\"v\":[-0,0.5e-10,1E+2,-12.25,123],\"o\":{\"a\":{\"b\":[[]]}}}]",
};

TEST(call_16_boot)
{
    struct frame f;

    ASSERT_EQ(parse(boot16, &f), FRAME_OK);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_STR_EQ(f.id, "19223201");
    ASSERT_STR_EQ(f.action, "BootNotification");
    ASSERT_STR_EQ(f.error_code, "");
    ASSERT(span_is(f.payload, "{\"chargePointVendor\": \"VendorX\", "
                              "\"chargePointModel\": \"SingleSocketCharger\"}"));
    ASSERT_NULL(f.error_description.ptr);
    ASSERT_EQ(f.error_description.len, 0);
}

TEST(call_201_boot_pretty)
{
    struct frame f;
    const char *open = strchr(boot201, '{');

    ASSERT_EQ(parse(boot201, &f), FRAME_OK);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_STR_EQ(f.id, "19223201");
    ASSERT_STR_EQ(f.action, "BootNotification");
    /* the span starts at the brace and ends at its match, no surrounding whitespace */
    ASSERT_EQ(f.payload.len, (size_t)(strrchr(boot201, '}') - open) + 1);
    ASSERT_EQ(memcmp(f.payload.ptr, open, f.payload.len), 0);
}

TEST(call_heartbeat_empty_payload)
{
    struct frame f;

    ASSERT_EQ(parse("[2,\"hb-1\",\"Heartbeat\",{}]", &f), FRAME_OK);
    ASSERT_STR_EQ(f.action, "Heartbeat");
    ASSERT(span_is(f.payload, "{}"));
    ASSERT_EQ(parse("[2,\"hb-1\",\"Heartbeat\",{ \n }]", &f), FRAME_OK);
    ASSERT(span_is(f.payload, "{ \n }"));
}

TEST(result_16)
{
    struct frame f;

    ASSERT_EQ(parse(result16, &f), FRAME_OK);
    ASSERT_EQ(f.type, FRAME_RESULT);
    ASSERT_STR_EQ(f.id, "19223201");
    ASSERT_STR_EQ(f.action, "");
    ASSERT(span_is(f.payload, "{\"status\":\"Accepted\", \"currentTime\":"
                              "\"2013-02-01T20:53:32.486Z\", \"heartbeatInterval\":300}"));
}

TEST(result_201_and_empty)
{
    struct frame f;

    ASSERT_EQ(parse("[3, \"19223201\", { \"currentTime\": \"2013-02-01T20:53:32.486Z\", "
                    "\"interval\": 300, \"status\": \"Accepted\" } ]", &f), FRAME_OK);
    ASSERT_EQ(f.type, FRAME_RESULT);
    ASSERT(span_is(f.payload, "{ \"currentTime\": \"2013-02-01T20:53:32.486Z\", "
                              "\"interval\": 300, \"status\": \"Accepted\" }"));
    ASSERT_EQ(parse("[3,\"7\",{}]", &f), FRAME_OK);
    ASSERT(span_is(f.payload, "{}"));
}

TEST(error_with_details)
{
    struct frame f;

    ASSERT_EQ(parse(error201, &f), FRAME_OK);
    ASSERT_EQ(f.type, FRAME_ERROR);
    ASSERT_STR_EQ(f.id, "162376037");
    ASSERT_STR_EQ(f.error_code, "NotSupported");
    ASSERT_STR_EQ(f.action, "");
    ASSERT(span_is(f.error_description, "\"SetDisplayMessageRequest not implemented\""));
    ASSERT(span_is(f.payload, "{\"detail\":[1,2.5e3,true,null,\"\\u00e9\"]}"));

    /* 1.6 style, empty description kept raw with its quotes and escapes */
    ASSERT_EQ(parse("[4,\"1\",\"FormationViolation\",\"\",{}]", &f), FRAME_OK);
    ASSERT(span_is(f.error_description, "\"\""));
    ASSERT_EQ(parse("[4,\"1\",\"GenericError\",\"a\\\"b\\n\",{}]", &f), FRAME_OK);
    ASSERT(span_is(f.error_description, "\"a\\\"b\\n\""));
    ASSERT_STR_EQ(f.error_code, "GenericError");
}

TEST(whitespace_variants)
{
    static const char *const texts[] = {
        " [2,\"a\",\"B\",{}]",
        "[2,\"a\",\"B\",{}] ",
        "\t\r\n[ 2 , \"a\" , \"B\" , { } ]\t\r\n",
        "[\n2\n,\n\"a\"\n,\n\"B\"\n,\n{\n\"k\"\n:\n[\n1\n,\n2\n]\n}\n]",
    };
    struct frame f;

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        ASSERT_EQ(parse(texts[i], &f), FRAME_OK);
        ASSERT_EQ(f.type, FRAME_CALL);
        ASSERT_STR_EQ(f.id, "a");
        ASSERT_STR_EQ(f.action, "B");
        ASSERT(f.payload.len > 0 && f.payload.ptr[0] == '{' &&
               f.payload.ptr[f.payload.len - 1] == '}');
    }
    /* whitespace that JSON does not allow */
    ASSERT_EQ(parse("[2,\"a\",\"B\",{}]\v", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("\f[2,\"a\",\"B\",{}]", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[2,\xc2\xa0\"a\",\"B\",{}]", &f), FRAME_FAULT_SYNTAX);
}

TEST(escaped_ids)
{
    struct frame f;
    char text[512], id36[37];

    ASSERT_EQ(parse("[2,\"a\\\"b\\\\c\\/d\",\"A\",{}]", &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, "a\"b\\c/d");
    ASSERT_EQ(parse("[2,\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\",\"A\",{}]", &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ASSERT_EQ(parse("[2,\"\\b\\f\\n\\r\\t\",\"\\u0048b\",{}]", &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, "\b\f\n\r\t");
    ASSERT_STR_EQ(f.action, "Hb");

    /* 36 characters is the limit, counted after unescaping */
    memset(id36, 'x', 36);
    id36[36] = '\0';
    snprintf(text, sizeof text, "[2,\"%s\",\"A\",{}]", id36);
    ASSERT_EQ(parse(text, &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, id36);
    strcpy(text, "[3,\"");
    for (int i = 0; i < 36; i++)
        strcat(text, "\\u0079");
    strcat(text, "\",{}]");
    ASSERT_EQ(parse(text, &f), FRAME_OK);
    ASSERT_EQ(strlen(f.id), 36);
    ASSERT_EQ(f.id[35], 'y');
}

TEST(bad_ids)
{
    struct frame f;
    char text[512];
    char *big;
    size_t big_len = (1u << 20) + 64;

    snprintf(text, sizeof text, "[2,\"%037d\",\"A\",{}]", 0);
    ASSERT_EQ(parse(text, &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_STR_EQ(f.id, "");
    /* 13 euro signs: 13 characters but 39 bytes; ids are counted in bytes */
    strcpy(text, "[2,\"");
    for (int i = 0; i < 13; i++)
        strcat(text, "\xe2\x82\xac");
    strcat(text, "\",\"A\",{}]");
    ASSERT_EQ(parse(text, &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(parse("[2,\"\",\"A\",{}]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(parse("[2,\"a\\u0000b\",\"A\",{}]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_STR_EQ(f.id, "");
    ASSERT_EQ(parse("[2]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_EQ(parse("[2,19223201,\"A\",{}]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(parse("[2,null,\"A\",{}]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(parse("[3,{},{}]", &f), FRAME_FAULT_BAD_ID);
    ASSERT_EQ(f.type, FRAME_RESULT);
    ASSERT_EQ(parse("[4,[\"a\"],\"C\",\"d\",{}]", &f), FRAME_FAULT_BAD_ID);

    /* a 1 MiB id: refused, and the 36-byte buffer is not overrun */
    big = malloc(big_len);
    ASSERT_NOT_NULL(big);
    memcpy(big, "[2,\"", 4);
    memset(big + 4, 'a', big_len - 4);
    memcpy(big + big_len - 13, "\",\"A\",{}]", 9);
    big_len -= 4;
    ASSERT_EQ(frame_parse(big, big_len, &f), FRAME_FAULT_BAD_ID);
    ASSERT_STR_EQ(f.id, "");
    ASSERT_EQ(f.type, FRAME_CALL);
    free(big);
}

TEST(hostile_empty_and_scalars)
{
    struct frame f;

    ASSERT_EQ(parse_n("", 0, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(frame_parse(NULL, 0, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(frame_parse(NULL, 10, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse(" \t\r\n ", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse_n("\0", 1, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse_n("[2,\"a\",\"B\",{}]\0", 15, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("null", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(parse("{}", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(parse("{\"0\":2,\"1\":\"id\"}", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(f.type, 0);
    ASSERT_STR_EQ(f.id, "");
    ASSERT_EQ(parse("\"[2,\\\"a\\\",\\\"B\\\",{}]\"", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(parse(" 2 ", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(parse("true", &f), FRAME_FAULT_NOT_ARRAY);
    /* syntax is judged before the envelope */
    ASSERT_EQ(parse("{\"a\":1", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[]", &f), FRAME_FAULT_BAD_TYPE);
    ASSERT_EQ(parse("[ ]", &f), FRAME_FAULT_BAD_TYPE);
    /* parsing without an out struct must not crash */
    ASSERT_EQ(frame_parse("[2,\"a\",\"B\",{}]", 14, NULL), FRAME_OK);
}

/* Every proper prefix of a valid frame is a syntax fault, and none crashes or
 * reads past its end (the copy is exactly as long as the prefix). */
TEST(truncated_at_every_offset)
{
    struct frame f;

    for (size_t k = 0; k < sizeof valid_frames / sizeof valid_frames[0]; k++) {
        const char *text = valid_frames[k];
        size_t len = strlen(text);

        ASSERT_EQ(parse_n(text, len, &f), FRAME_OK);
        for (size_t n = 0; n < len; n++) {
            enum frame_fault fault = parse_n(text, n, &f);
            if (fault != FRAME_FAULT_SYNTAX)
                TEST__FAIL("frame %zu cut at %zu: fault %d", k, n, (int)fault);
        }
    }
}

/* A truncated frame still tells its type and id once they were read. */
TEST(truncated_keeps_type_and_id)
{
    struct frame f;

    ASSERT_EQ(parse("[2", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_STR_EQ(f.id, "");
    ASSERT_EQ(parse("[2,\"abc", &f), FRAME_FAULT_SYNTAX);
    ASSERT_STR_EQ(f.id, "");
    ASSERT_EQ(parse("[2,\"abc\"", &f), FRAME_FAULT_SYNTAX);
    ASSERT_STR_EQ(f.id, "abc");
    ASSERT_EQ(parse("[2,\"abc\",\"Authorize\",{\"idTag\":", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(f.type, FRAME_CALL);
    ASSERT_STR_EQ(f.id, "abc");
    ASSERT_STR_EQ(f.action, "");
    ASSERT_NULL(f.payload.ptr);
    ASSERT_EQ(parse("[3,\"r1\",{\"x\":tru}]", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(f.type, FRAME_RESULT);
    ASSERT_STR_EQ(f.id, "r1");
    ASSERT_EQ(parse("[\"2\",\"abc\",", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(f.type, 0);
    ASSERT_STR_EQ(f.id, "abc");
}

struct envelope_case {
    const char *text;
    enum frame_fault fault;
    int type; /* expected out->type */
    const char *id;
};

TEST(wrong_types_in_every_position)
{
    static const struct envelope_case cases[] = {
        /* element 0 */
        { "[\"2\",\"a\",\"B\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[2.0,\"a\",\"B\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[2e0,\"a\",\"B\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[20e-1,\"a\",\"B\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[null,\"a\",\"B\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[true,\"a\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[{},\"a\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[[2],\"a\",{}]", FRAME_FAULT_BAD_TYPE, 0, "a" },
        { "[1,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[5,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[6,\"a\",\"NotifyPeriodicEventStream\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[0,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[-2,\"a\",\"B\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[-0,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[22,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[99999999999999999999999,\"a\",{}]", FRAME_FAULT_UNKNOWN_TYPE, 0, "a" },
        { "[7,1]", FRAME_FAULT_UNKNOWN_TYPE, 0, "" },
        /* element 1 */
        { "[2]", FRAME_FAULT_BAD_ID, 2, "" },
        { "[2,1,\"B\",{}]", FRAME_FAULT_BAD_ID, 2, "" },
        { "[2,\"\",\"B\",{}]", FRAME_FAULT_BAD_ID, 2, "" },
        { "[2,{},\"B\",{}]", FRAME_FAULT_BAD_ID, 2, "" },
        { "[3,true,{}]", FRAME_FAULT_BAD_ID, 3, "" },
        { "[4,null,\"C\",\"d\",{}]", FRAME_FAULT_BAD_ID, 4, "" },
        /* CALL */
        { "[2,\"a\"]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\"]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",{},{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",{},1,2,3,4,5,6]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",1,{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",null,{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",[\"B\"],{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"\",{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\\u0000\",{}]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",[]]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",null]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",\"{}\"]", FRAME_FAULT_STRUCTURE, 2, "a" },
        { "[2,\"a\",\"B\",0]", FRAME_FAULT_STRUCTURE, 2, "a" },
        /* CALLRESULT */
        { "[3,\"a\"]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",{},{}]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",\"B\",{}]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",[]]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",null]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",\"x\"]", FRAME_FAULT_STRUCTURE, 3, "a" },
        { "[3,\"a\",false]", FRAME_FAULT_STRUCTURE, 3, "a" },
        /* CALLERROR */
        { "[4,\"a\"]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",\"d\"]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",\"d\",{},{}]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",1,\"d\",{}]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"\",\"d\",{}]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",1,{}]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",null,{}]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",\"d\",[]]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",\"d\",null]", FRAME_FAULT_STRUCTURE, 4, "a" },
        { "[4,\"a\",\"C\",\"d\",\"\"]", FRAME_FAULT_STRUCTURE, 4, "a" },
    };
    char action65[128];
    struct frame f;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum frame_fault fault = parse(cases[i].text, &f);
        if (fault != cases[i].fault)
            TEST__FAIL("%s: fault %d, expected %d", cases[i].text, (int)fault,
                       (int)cases[i].fault);
        if ((int)f.type != cases[i].type || strcmp(f.id, cases[i].id) != 0)
            TEST__FAIL("%s: type %d id \"%s\"", cases[i].text, (int)f.type, f.id);
        if (f.payload.ptr || f.action[0] || f.error_code[0])
            TEST__FAIL("%s: more than type and id filled in", cases[i].text);
    }

    /* action and error code: 64 bytes pass, 65 do not */
    memset(action65, 'A', 64);
    action65[64] = '\0';
    {
        char text[256];
        snprintf(text, sizeof text, "[2,\"a\",\"%s\",{}]", action65);
        ASSERT_EQ(parse(text, &f), FRAME_OK);
        ASSERT_STR_EQ(f.action, action65);
        snprintf(text, sizeof text, "[4,\"a\",\"%s\",\"\",{}]", action65);
        ASSERT_EQ(parse(text, &f), FRAME_OK);
        ASSERT_STR_EQ(f.error_code, action65);
        snprintf(text, sizeof text, "[2,\"a\",\"%sB\",{}]", action65);
        ASSERT_EQ(parse(text, &f), FRAME_FAULT_STRUCTURE);
        snprintf(text, sizeof text, "[4,\"a\",\"%sB\",\"\",{}]", action65);
        ASSERT_EQ(parse(text, &f), FRAME_FAULT_STRUCTURE);
    }
}

/* prefix, depth times open, inner, depth times close, suffix */
static char *nested(const char *open, const char *inner, const char *close, size_t depth,
                    const char *prefix, const char *suffix, size_t *len)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    size_t lp = strlen(prefix), ls = strlen(suffix);
    size_t n = lp + depth * (lo + lc) + li + ls;
    char *buf = malloc(n + 1), *p = buf;

    if (!buf)
        abort();
    memcpy(p, prefix, lp);
    p += lp;
    for (size_t i = 0; i < depth; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (size_t i = 0; i < depth; i++, p += lc)
        memcpy(p, close, lc);
    memcpy(p, suffix, ls + 1);
    *len = n;
    return buf;
}

TEST(deep_nesting)
{
    struct frame f;
    size_t len;
    char *text;
    clock_t t0 = clock();

    text = nested("[", "", "]", 10000, "", "", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    free(text);
    text = nested("[", "", "", 10000, "", "", &len); /* never closed either */
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    free(text);
    text = nested("{\"a\":", "1", "}", 10000, "", "", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    free(text);
    text = nested("{\"a\":", "1", "}", 10000, "[2,\"a\",\"B\",", "]", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    ASSERT_STR_EQ(f.id, "a"); /* the id was read before the fault */
    free(text);

    /* FRAME_DEPTH_MAX containers in all, the envelope included, are fine */
    text = nested("{\"a\":", "{}", "}", FRAME_DEPTH_MAX - 2, "[2,\"a\",\"B\",", "]", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_OK);
    ASSERT_EQ(f.payload.len, len - strlen("[2,\"a\",\"B\",]"));
    free(text);
    text = nested("{\"a\":", "{}", "}", FRAME_DEPTH_MAX - 1, "[2,\"a\",\"B\",", "]", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    free(text);
    text = nested("[", "", "]", FRAME_DEPTH_MAX - 2, "[3,\"a\",{\"k\":", "}]", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_OK);
    free(text);
    text = nested("[", "", "]", FRAME_DEPTH_MAX - 1, "[3,\"a\",{\"k\":", "}]", &len);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_FAULT_SYNTAX);
    free(text);
    ASSERT((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
}

/* Wraps a raw string body (between the quotes) in a payload and parses it. */
static enum frame_fault parse_payload_string(const char *body)
{
    char text[256];
    struct frame f;

    snprintf(text, sizeof text, "[3,\"a\",{\"s\":\"%s\"}]", body);
    return parse(text, &f);
}

TEST(utf8)
{
    /* valid: 2, 3 and 4 bytes, the edges of each range, U+007F raw */
    static const char *const good[] = {
        "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x8c",
    };
    static const char *const bad[] = {
        "\xc0\x80", "\xc1\xbf",         /* overlong 2 bytes */
        "\xe0\x80\x80", "\xe0\x9f\xbf", /* overlong 3 bytes */
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", /* overlong 4 bytes */
        "\x80", "\xbf", "a\x80z",       /* lone continuation */
        "\xed\xa0\x80", "\xed\xbf\xbf", /* UTF-16 surrogates in UTF-8 */
        "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf", /* > U+10FFFF */
        "\xf8\x88\x80\x80\x80", "\xfe", "\xff",
        "\xe2\x82", "\xc3", "\xf0\x9f\x98", /* truncated before the quote */
        "\xe2\x28\xa1", "\xc3\x28",     /* bad continuation */
    };
    struct frame f;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (parse_payload_string(good[i]) != FRAME_OK)
            TEST__FAIL("good UTF-8 #%zu refused", i);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_payload_string(bad[i]) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("bad UTF-8 #%zu accepted", i);
    /* truncated by the end of the buffer */
    ASSERT_EQ(parse_n("[3,\"a\",{\"s\":\"\xe2\x82", 15, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse_n("[3,\"\xf0\x9f", 6, &f), FRAME_FAULT_SYNTAX);
    /* non-ASCII bytes outside strings */
    ASSERT_EQ(parse("[3,\"a\",{}]\xc3\xa9", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("\xef\xbb\xbf[3,\"a\",{}]", &f), FRAME_FAULT_SYNTAX); /* BOM */
    /* in the id and action too */
    ASSERT_EQ(parse("[2,\"\xc0\x80\",\"B\",{}]", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[2,\"a\",\"B\xed\xa0\x80\",{}]", &f), FRAME_FAULT_SYNTAX);
}

TEST(escapes)
{
    static const char *const good[] = {
        "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0000", "\\u001f",
        "\\uFFFF", "\\uffff", "\\uD83D\\uDE00", "\\udbff\\udfff", "\\uD800\\uDC00",
        "\\uE000", "\\uD7FF",
    };
    static const char *const bad[] = {
        "\\uD800", "\\ud83d", "\\uDBFF",      /* lone high surrogate */
        "\\uDC00", "\\uDFFF", "\\ude00\\ud83d", /* lone or reversed low surrogate */
        "\\uD800\\u0041", "\\uD800\\uD800", "\\uD800x", "\\uD800\\n", "\\uD800\\",
        "\\uD800\\u12", "\\u12G4", "\\u12", "\\u", "\\U0041", "\\x41", "\\a", "\\0",
        "\\'", "\\", "\\ ",
    };

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (parse_payload_string(good[i]) != FRAME_OK)
            TEST__FAIL("good escape %s refused", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_payload_string(bad[i]) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("bad escape %s accepted", bad[i]);
}

TEST(control_chars_in_strings)
{
    struct frame f;
    char body[2] = { 0, 0 };

    for (int c = 1; c < 0x20; c++) {
        body[0] = (char)c;
        if (parse_payload_string(body) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("raw control 0x%02x accepted", c);
    }
    ASSERT_EQ(parse_n("[3,\"a\",{\"s\":\"\0\"}]", 17, &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[2,\"a\tb\",\"B\",{}]", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[2,\"a\",\"B\nC\",{}]", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("[3,\"a\",{\"k\x01\":1}]", &f), FRAME_FAULT_SYNTAX);
}

TEST(trailing_garbage)
{
    static const char *const texts[] = {
        "[2,\"a\",\"B\",{}]x", "[2,\"a\",\"B\",{}] ,", "[2,\"a\",\"B\",{}][2,\"b\",\"B\",{}]",
        "[2,\"a\",\"B\",{}]]", "[2,\"a\",\"B\",{}]}", "[2,\"a\",\"B\",{}] 1", "[3,\"a\",{}]\"\"",
        "[3,\"a\",{}]//", "[3,\"a\",{}]\x1a",
    };
    struct frame f;

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (parse(texts[i], &f) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("%s accepted", texts[i]);
        if (f.type == 0 || f.id[0] == '\0')
            TEST__FAIL("%s: type and id were readable", texts[i]);
    }
}

TEST(numbers)
{
    static const char *const good[] = {
        "0", "-0", "1", "-1", "10", "123456789012345678901234567890", "0.0", "0.5", "-0.5",
        "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "0e0", "-0.0E-0",
    };
    static const char *const bad[] = {
        "01", "-01", "00", "1.", "-", "1e", "1e+", "1E-", ".5", "+1", "-.5", "1.e5",
        "0x10", "NaN", "nan", "Infinity", "-Infinity", "inf", "1_000", "--1",
        "1e5.5", "1ee5", "0.5.5", "- 1",
    };
    char text[128];
    struct frame f;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(text, sizeof text, "[3,\"a\",{\"n\":%s}]", good[i]);
        if (parse(text, &f) != FRAME_OK)
            TEST__FAIL("%s refused", good[i]);
        snprintf(text, sizeof text, "[3,\"a\",{\"n\":[%s]}]", good[i]);
        if (parse(text, &f) != FRAME_OK)
            TEST__FAIL("[%s] refused", good[i]);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "[3,\"a\",{\"n\":%s}]", bad[i]);
        if (parse(text, &f) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("%s accepted", bad[i]);
        snprintf(text, sizeof text, "[%s,\"a\",{}]", bad[i]);
        if (parse(text, &f) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("[%s,...] accepted", bad[i]);
    }
    /* numbers ending exactly at the end of the buffer */
    ASSERT_EQ(parse("1", &f), FRAME_FAULT_NOT_ARRAY);
    ASSERT_EQ(parse("-", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("1.", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("1e", &f), FRAME_FAULT_SYNTAX);
    ASSERT_EQ(parse("1.5e-3", &f), FRAME_FAULT_NOT_ARRAY);
}

TEST(literals_and_objects)
{
    static const char *const bad[] = {
        "tru", "nul", "fals", "True", "NULL", "truee", "nulll", "undefined", "'a'",
        "{\"a\"}", "{\"a\" 1}", "{\"a\":}", "{a:1}", "{1:1}", "{\"a\":1,}", "{,}",
        "{\"a\":1 \"b\":2}", "[1,]", "[,1]", "[1 2]", "[1,,2]", "{\"a\":1]", "[1}",
        "{\"a\"::1}", "{\"a\":1:}", "{'a':1}",
    };
    char text[128];
    struct frame f;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "[3,\"a\",{\"v\":%s}]", bad[i]);
        if (parse(text, &f) != FRAME_FAULT_SYNTAX)
            TEST__FAIL("%s accepted", bad[i]);
    }
    ASSERT_EQ(parse("[3,\"a\",{\"t\":true,\"f\":false,\"n\":null,\"\":{},\"o\":{\"a\":[]}}]", &f),
              FRAME_OK);
    /* duplicate names are not the envelope's business */
    ASSERT_EQ(parse("[3,\"a\",{\"k\":1,\"k\":2}]", &f), FRAME_OK);
}

struct code_case {
    const char *text;
    enum frame_fault fault;
    const char *code16, *id16;   /* NULL: not answered */
    const char *code201, *id201;
};

TEST(fault_codes_per_version)
{
    static const struct code_case cases[] = {
        { "not json", FRAME_FAULT_SYNTAX, NULL, NULL, "RpcFrameworkError", "-1" },
        { "", FRAME_FAULT_SYNTAX, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[2,\"abc\",\"Authorize\",{\"idTag\":}]", FRAME_FAULT_SYNTAX,
          "FormationViolation", "abc", "FormatViolation", "abc" },
        { "[2,\"abc\",\"Authorize\",{}", FRAME_FAULT_SYNTAX,
          "FormationViolation", "abc", "FormatViolation", "abc" },
        { "[2,\"abc\",\"Authorize\",{}]x", FRAME_FAULT_SYNTAX,
          "FormationViolation", "abc", "FormatViolation", "abc" },
        { "[2,\"ab", FRAME_FAULT_SYNTAX, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[3,\"abc\",{\"x\":}]", FRAME_FAULT_SYNTAX, NULL, NULL, NULL, NULL },
        { "[4,\"abc\",\"C\",\"d\",{]", FRAME_FAULT_SYNTAX, NULL, NULL, NULL, NULL },
        { "[3,\"a\xff\",{}]", FRAME_FAULT_SYNTAX, NULL, NULL, NULL, NULL },
        { "{}", FRAME_FAULT_NOT_ARRAY, NULL, NULL, "RpcFrameworkError", "-1" },
        { "\"abc\"", FRAME_FAULT_NOT_ARRAY, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[\"2\",\"abc\",\"A\",{}]", FRAME_FAULT_BAD_TYPE,
          "FormationViolation", "abc", "RpcFrameworkError", "abc" },
        { "[2.0,7,\"A\",{}]", FRAME_FAULT_BAD_TYPE, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[]", FRAME_FAULT_BAD_TYPE, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[7,\"abc\",{}]", FRAME_FAULT_UNKNOWN_TYPE,
          "GenericError", "abc", "MessageTypeNotSupported", "abc" },
        { "[6,\"abc\",\"NotifyPeriodicEventStream\",{}]", FRAME_FAULT_UNKNOWN_TYPE,
          "GenericError", "abc", "MessageTypeNotSupported", "abc" },
        { "[7,1]", FRAME_FAULT_UNKNOWN_TYPE, NULL, NULL, "MessageTypeNotSupported", "-1" },
        { "[2,1,\"A\",{}]", FRAME_FAULT_BAD_ID, NULL, NULL, "RpcFrameworkError", "-1" },
        { "[2,\"0123456789012345678901234567890123456\",\"A\",{}]", FRAME_FAULT_BAD_ID,
          NULL, NULL, "RpcFrameworkError", "-1" },
        { "[3,1,{}]", FRAME_FAULT_BAD_ID, NULL, NULL, NULL, NULL },
        { "[4,\"\",\"C\",\"d\",{}]", FRAME_FAULT_BAD_ID, NULL, NULL, NULL, NULL },
        { "[2,\"abc\",\"A\"]", FRAME_FAULT_STRUCTURE,
          "FormationViolation", "abc", "RpcFrameworkError", "abc" },
        { "[2,\"abc\",\"A\",null]", FRAME_FAULT_STRUCTURE,
          "FormationViolation", "abc", "RpcFrameworkError", "abc" },
        { "[3,\"abc\",[]]", FRAME_FAULT_STRUCTURE, NULL, NULL, NULL, NULL },
        { "[4,\"abc\",\"C\",\"d\"]", FRAME_FAULT_STRUCTURE, NULL, NULL, NULL, NULL },
        { "[2,\"abc\",\"A\",{}]", FRAME_OK, NULL, NULL, NULL, NULL },
        { "[3,\"abc\",{}]", FRAME_OK, NULL, NULL, NULL, NULL },
    };
    struct frame f;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct code_case *c = &cases[i];
        enum frame_fault fault = parse(c->text, &f);
        const char *got[4] = {
            frame_fault_code(fault, &f, OCPP_16), frame_fault_reply_id(fault, &f, OCPP_16),
            frame_fault_code(fault, &f, OCPP_201), frame_fault_reply_id(fault, &f, OCPP_201),
        };
        const char *want[4] = { c->code16, c->id16, c->code201, c->id201 };

        if (fault != c->fault)
            TEST__FAIL("%s: fault %d, expected %d", c->text, (int)fault, (int)c->fault);
        for (int k = 0; k < 4; k++)
            if ((got[k] == NULL) != (want[k] == NULL) ||
                (got[k] && strcmp(got[k], want[k]) != 0))
                TEST__FAIL("%s: answer %d is %s, expected %s", c->text, k,
                           got[k] ? got[k] : "NULL", want[k] ? want[k] : "NULL");
    }
    /* without a parsed struct nothing is known: 2.0.1 still answers under "-1" */
    ASSERT_NULL(frame_fault_code(FRAME_FAULT_SYNTAX, NULL, OCPP_16));
    ASSERT_NULL(frame_fault_reply_id(FRAME_FAULT_SYNTAX, NULL, OCPP_16));
    ASSERT_STR_EQ(frame_fault_code(FRAME_FAULT_SYNTAX, NULL, OCPP_201), "RpcFrameworkError");
    ASSERT_STR_EQ(frame_fault_reply_id(FRAME_FAULT_SYNTAX, NULL, OCPP_201), "-1");
    ASSERT_NULL(frame_fault_code(FRAME_FAULT_SYNTAX, &f, (enum ocpp_version)7));
    ASSERT_NULL(frame_fault_reply_id(FRAME_FAULT_SYNTAX, &f, (enum ocpp_version)7));
}

TEST(fault_strings)
{
    for (int a = FRAME_OK; a <= FRAME_FAULT_STRUCTURE; a++) {
        ASSERT_NOT_NULL(frame_fault_str((enum frame_fault)a));
        ASSERT(strlen(frame_fault_str((enum frame_fault)a)) > 0);
        for (int b = FRAME_OK; b < a; b++)
            ASSERT(strcmp(frame_fault_str((enum frame_fault)a),
                          frame_fault_str((enum frame_fault)b)) != 0);
    }
    ASSERT_STR_EQ(frame_fault_str((enum frame_fault)99), "unknown fault");
}

#define EXPECT_WRITE(call, text) do { \
        int n_ = (call); \
        ASSERT_EQ(n_, strlen(text)); \
        ASSERT_STR_EQ(buf, text); \
    } while (0)

TEST(write_exact)
{
    char buf[256];

    EXPECT_WRITE(frame_write_call(buf, sizeof buf, "hb-1", "Heartbeat", "{}", 2),
                 "[2,\"hb-1\",\"Heartbeat\",{}]");
    EXPECT_WRITE(frame_write_call(buf, sizeof buf, "1", "Heartbeat", NULL, 0),
                 "[2,\"1\",\"Heartbeat\",{}]");
    EXPECT_WRITE(frame_write_call(buf, sizeof buf, "1", "Heartbeat", "{}", 0),
                 "[2,\"1\",\"Heartbeat\",{}]");
    /* payload_len bytes only, verbatim */
    EXPECT_WRITE(frame_write_result(buf, sizeof buf, "19223201",
                                    "{\"status\":\"Accepted\"}XYZ", 21),
                 "[3,\"19223201\",{\"status\":\"Accepted\"}]");
    EXPECT_WRITE(frame_write_result(buf, sizeof buf, "r", " {\n} ", 5), "[3,\"r\", {\n} ]");
    EXPECT_WRITE(frame_write_result(buf, sizeof buf, "r", "", 0), "[3,\"r\",{}]");
    EXPECT_WRITE(frame_write_error(buf, sizeof buf, "162376037", "NotSupported", "not here"),
                 "[4,\"162376037\",\"NotSupported\",\"not here\",{}]");
    EXPECT_WRITE(frame_write_error(buf, sizeof buf, "-1", "RpcFrameworkError", NULL),
                 "[4,\"-1\",\"RpcFrameworkError\",\"\",{}]");
}

TEST(write_escaping)
{
    char buf[256];
    struct frame f;
    int n;

    n = frame_write_error(buf, sizeof buf, "a\"b\\c", "C",
                          "q\" bs\\ nl\n tab\t nul? \x01\x1f del\x7f caf\xc3\xa9 /");
    ASSERT(n > 0);
    ASSERT_STR_EQ(buf, "[4,\"a\\\"b\\\\c\",\"C\","
                       "\"q\\\" bs\\\\ nl\\u000a tab\\u0009 nul? \\u0001\\u001f del\x7f"
                       " caf\xc3\xa9 /\",{}]");
    ASSERT_EQ(parse_n(buf, (size_t)n, &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, "a\"b\\c");

    n = frame_write_call(buf, sizeof buf, "\x01\n", "A\"", "{\"k\":[1]}", 9);
    ASSERT_STR_EQ(buf, "[2,\"\\u0001\\u000a\",\"A\\\"\",{\"k\":[1]}]");
    ASSERT_EQ(parse_n(buf, (size_t)n, &f), FRAME_OK);
    ASSERT_STR_EQ(f.id, "\x01\n");
    ASSERT_STR_EQ(f.action, "A\"");
    ASSERT(span_is(f.payload, "{\"k\":[1]}"));
}

TEST(write_round_trip)
{
    char buf[1024];
    struct frame f, g;
    int n;

    for (size_t k = 0; k < sizeof valid_frames / sizeof valid_frames[0]; k++) {
        char payload[512];

        ASSERT_EQ(parse(valid_frames[k], &f), FRAME_OK);
        ASSERT(f.payload.len < sizeof payload);
        memcpy(payload, f.payload.ptr, f.payload.len); /* parse() frees its copy */
        if (f.type == FRAME_CALL)
            n = frame_write_call(buf, sizeof buf, f.id, f.action, payload, f.payload.len);
        else if (f.type == FRAME_RESULT)
            n = frame_write_result(buf, sizeof buf, f.id, payload, f.payload.len);
        else
            n = frame_write_error(buf, sizeof buf, f.id, f.error_code, "x");
        ASSERT(n > 0);
        ASSERT_EQ(strlen(buf), n);
        ASSERT_EQ(parse_n(buf, (size_t)n, &g), FRAME_OK);
        ASSERT_EQ(g.type, f.type);
        ASSERT_STR_EQ(g.id, f.id);
        ASSERT_STR_EQ(g.action, f.action);
        ASSERT_STR_EQ(g.error_code, f.error_code);
        if (f.type != FRAME_ERROR) {
            ASSERT_EQ(g.payload.len, f.payload.len);
            ASSERT_EQ(memcmp(g.payload.ptr, payload, f.payload.len), 0);
        } else {
            ASSERT(span_is(g.payload, "{}"));
            ASSERT(span_is(g.error_description, "\"x\""));
        }
    }
}

/* Writes with every cap from 0 to the exact size: each too small one gives
 * -ENOSPC and leaves every byte from cap on untouched. */
static void check_caps(int kind, const char *id, const char *name, const char *payload)
{
    char full[512], buf[600];
    int len;

#define WRITE(b, cap)                                                                   \
    (kind == 2 ? frame_write_call(b, cap, id, name, payload, strlen(payload))          \
     : kind == 3 ? frame_write_result(b, cap, id, payload, strlen(payload))            \
                 : frame_write_error(b, cap, id, name, payload))
    len = WRITE(full, sizeof full);
    ASSERT(len > 0);
    for (size_t cap = 0; cap <= (size_t)len; cap++) {
        memset(buf, 0x5a, sizeof buf);
        if (WRITE(buf, cap) != -ENOSPC)
            TEST__FAIL("kind %d cap %zu: no -ENOSPC", kind, cap);
        if (cap > 0 && buf[0] != '\0')
            TEST__FAIL("kind %d cap %zu: buf not emptied", kind, cap);
        for (size_t i = cap; i < sizeof buf; i++)
            if (buf[i] != 0x5a)
                TEST__FAIL("kind %d cap %zu: byte %zu written", kind, cap, i);
    }
    memset(buf, 0x5a, sizeof buf);
    ASSERT_EQ(WRITE(buf, (size_t)len + 1), len);
    ASSERT_EQ(memcmp(buf, full, (size_t)len + 1), 0);
    ASSERT_EQ(buf[len + 1], 0x5a);
#undef WRITE
}

TEST(write_enospc_every_cap)
{
    check_caps(2, "id-\"1\"", "Boot\x01Notification", "{\"a\":[1,2,3]}");
    check_caps(3, "19223201", NULL, "{\"status\":\"Accepted\"}");
    check_caps(4, "\\x", "GenericError", "desc \"with\" \n escapes\x02");
    if (test__cur_failed)
        return;
    /* a NULL buffer is a buffer of no room */
    ASSERT_EQ(frame_write_call(NULL, 100, "a", "B", "{}", 2), -ENOSPC);
}

TEST(write_invalid_arguments)
{
    char buf[256], id37[38], name65[66];

    memset(id37, 'i', 37);
    id37[37] = '\0';
    memset(name65, 'n', 65);
    name65[65] = '\0';
    ASSERT_EQ(frame_write_call(buf, sizeof buf, NULL, "A", "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_call(buf, sizeof buf, "", "A", "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_call(buf, sizeof buf, id37, "A", "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_call(buf, sizeof buf, "a", NULL, "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_call(buf, sizeof buf, "a", "", "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_call(buf, sizeof buf, "a", name65, "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_result(buf, sizeof buf, NULL, "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_result(buf, sizeof buf, id37, "{}", 2), -EINVAL);
    ASSERT_EQ(frame_write_error(buf, sizeof buf, "a", NULL, "d"), -EINVAL);
    ASSERT_EQ(frame_write_error(buf, sizeof buf, "a", name65, "d"), -EINVAL);
    id37[36] = '\0';
    name65[64] = '\0';
    ASSERT(frame_write_call(buf, sizeof buf, id37, name65, "{}", 2) > 0);
    ASSERT(frame_write_error(buf, sizeof buf, id37, name65, "") > 0);
}

TEST(subprotocols)
{
    enum ocpp_version v = (enum ocpp_version)-1;
    static const char *const bad[] = {
        "", "ocpp1.6 ", " ocpp1.6", "OCPP1.6", "ocpp1.6j", "ocpp1.5", "ocpp2.0", "ocpp2.0.1,",
        "ocpp2.1", "ocpp2.0.10", "ocpp1",
    };

    ASSERT(ocpp_version_from_subprotocol("ocpp1.6", &v));
    ASSERT_EQ(v, OCPP_16);
    ASSERT(ocpp_version_from_subprotocol("ocpp2.0.1", &v));
    ASSERT_EQ(v, OCPP_201);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = (enum ocpp_version)-1;
        if (ocpp_version_from_subprotocol(bad[i], &v) || v != (enum ocpp_version)-1)
            TEST__FAIL("\"%s\" accepted", bad[i]);
    }
    ASSERT(!ocpp_version_from_subprotocol(NULL, &v));
    ASSERT_STR_EQ(ocpp_version_subprotocol(OCPP_16), "ocpp1.6");
    ASSERT_STR_EQ(ocpp_version_subprotocol(OCPP_201), "ocpp2.0.1");
    ASSERT_NULL(ocpp_version_subprotocol((enum ocpp_version)9));
}

/* A large, legal payload scans in linear time. */
TEST(large_payload)
{
    size_t n = 200000, len;
    char *text = malloc(n * 10 + 64), *p = text;
    struct frame f;
    clock_t t0 = clock();

    ASSERT_NOT_NULL(text);
    p += sprintf(p, "[2,\"big\",\"DataTransfer\",{\"v\":[");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s\"\\u00e9\"", i ? "," : "");
    p += sprintf(p, "]}]");
    len = (size_t)(p - text);
    ASSERT_EQ(parse_n(text, len, &f), FRAME_OK);
    ASSERT_EQ(f.payload.len, len - strlen("[2,\"big\",\"DataTransfer\",]"));
    free(text);
    ASSERT((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5);
}

/* The same scanner for any JSON text, and what it counts for json_tree.c. */
TEST(json_valid_counts)
{
    static const char *const bad[] = { "", " ", "{", "[1,]", "01", "\"\t\"", "[\"\xff\"]",
                                       "{} {}", "nul", "\"\\ud800\"" };
    const char *text = "{\"ab\":\"c\\u00e9\",\"d\":[1, 2]}";
    struct frame_json_size size = { 99, 99 };

    /* object, "c\u00e9", array, 1, 2: five values; "ab", "cé", "d": 3+4+2 bytes */
    ASSERT(frame_json_valid(text, strlen(text), &size));
    ASSERT_EQ(size.values, 5);
    ASSERT_EQ(size.text_bytes, 9);
    ASSERT(frame_json_valid(" 7 ", 3, &size));
    ASSERT_EQ(size.values, 1);
    ASSERT_EQ(size.text_bytes, 0);
    ASSERT(frame_json_valid("[[],{}]", 7, NULL));
    ASSERT(frame_json_valid("\"\"", 2, &size));
    ASSERT_EQ(size.text_bytes, 1);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (frame_json_valid(bad[i], strlen(bad[i]), NULL))
            TEST__FAIL("valid: %s", bad[i]);
    ASSERT(!frame_json_valid(NULL, 0, NULL));
    ASSERT(!frame_json_valid("{}\0", 3, NULL));
}

TEST(json_string_decodes)
{
    const char *text = "[\"a\\n\\u00e9\\ud83d\\ude00\",\"x\"]";
    char dst[16];
    size_t pos = 1, dlen = 0;

    ASSERT(frame_json_string(text, strlen(text), &pos, dst, &dlen));
    ASSERT_EQ(dlen, 8);
    ASSERT_STR_EQ(dst, "a\n\xc3\xa9\xf0\x9f\x98\x80");
    ASSERT_EQ(text[pos], ',');
    pos = 0; /* not at a string */
    ASSERT(!frame_json_string(text, strlen(text), &pos, dst, &dlen));
    ASSERT_EQ(pos, 0);
}

TEST(utf8_valid)
{
    ASSERT(frame_utf8_valid("", 0));
    ASSERT(frame_utf8_valid("tx-1 \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 14));
    ASSERT(!frame_utf8_valid("\xff", 1));
    ASSERT(!frame_utf8_valid("\xc3", 1));          /* cut short */
    ASSERT(!frame_utf8_valid("\xc0\xaf", 2));      /* overlong */
    ASSERT(!frame_utf8_valid("\xed\xa0\x80", 3));  /* a surrogate */
    ASSERT(!frame_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
}

int main(void)
{
    RUN(call_16_boot);
    RUN(call_201_boot_pretty);
    RUN(call_heartbeat_empty_payload);
    RUN(result_16);
    RUN(result_201_and_empty);
    RUN(error_with_details);
    RUN(whitespace_variants);
    RUN(escaped_ids);
    RUN(bad_ids);
    RUN(hostile_empty_and_scalars);
    RUN(truncated_at_every_offset);
    RUN(truncated_keeps_type_and_id);
    RUN(wrong_types_in_every_position);
    RUN(deep_nesting);
    RUN(utf8);
    RUN(escapes);
    RUN(control_chars_in_strings);
    RUN(trailing_garbage);
    RUN(numbers);
    RUN(literals_and_objects);
    RUN(fault_codes_per_version);
    RUN(fault_strings);
    RUN(write_exact);
    RUN(write_escaping);
    RUN(write_round_trip);
    RUN(write_enospc_every_cap);
    RUN(write_invalid_arguments);
    RUN(subprotocols);
    RUN(large_payload);
    RUN(json_valid_counts);
    RUN(json_string_decodes);
    RUN(utf8_valid);
    free(parse_copy); /* for LeakSanitizer */
    return test_summary();
}
