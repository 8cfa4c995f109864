/* Unit tests of the payloads' read-only cJSON tree (proxy/json_tree.c).
 *
 * Every parse goes through a heap copy of exactly the text's length, without
 * a NUL, so that under AddressSanitizer a read past len is caught. cJSON's own
 * parser (1.7.15, on a NUL-terminated copy) is the reference: json_same_tree
 * compares every field, valueint and the prev links included, which
 * cJSON_Compare does not.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "test.h"

#include <cjson/cJSON.h>

#include "frame.h"
#include "json_tree.h"
#include "json_same.h"

/* A heap copy of exactly strlen(json) bytes. */
static char *exact(const char *json, size_t *len)
{
    size_t n = strlen(json);
    char *p = malloc(n ? n : 1);

    if (!p)
        abort();
    memcpy(p, json, n);
    *len = n;
    return p;
}

/* json_tree_parse of an exact-size copy of json. */
static int parse(const char *json, cJSON **out)
{
    size_t n;
    char *p = exact(json, &n);
    int rc = json_tree_parse(p, n, out);

    free(p); /* the tree holds no pointer into the text */
    return rc;
}

static cJSON *reference(const char *json)
{
    return cJSON_ParseWithLengthOpts(json, strlen(json) + 1, NULL, 1);
}

/* Ours against cJSON's, field by field, and by cJSON_Compare both ways,
 * which must say what it says of two parses of cJSON's own: it finds those
 * unequal when a number is infinite (inf - inf is NaN) or a key repeats with
 * other values (it looks each of a's members up in b by name). */
static bool same_as_cjson(const char *json)
{
    cJSON *ours, *theirs = reference(json), *again = reference(json);
    bool same, equal;

    if (!theirs || !again || parse(json, &ours) != 0)
        abort();
    equal = cJSON_Compare(theirs, again, true);
    same = json_same_tree(ours, theirs) && cJSON_Compare(ours, theirs, true) == equal &&
           cJSON_Compare(theirs, ours, true) == equal;
    json_tree_release(ours);
    cJSON_Delete(theirs);
    cJSON_Delete(again);
    return same;
}

TEST(structure)
{
    cJSON *root, *a, *it;

    ASSERT_EQ(parse("{\"a\":[1,true,false,null],\"b\":\"x\",\"c\":{},\"d\":[]}", &root), 0);
    ASSERT(cJSON_IsObject(root));
    ASSERT_NULL(root->string);
    ASSERT_NULL(root->next);
    ASSERT_NULL(root->prev);
    ASSERT_EQ(cJSON_GetArraySize(root), 4);
    a = cJSON_GetObjectItemCaseSensitive(root, "a");
    ASSERT(cJSON_IsArray(a));
    ASSERT_EQ(a->type, cJSON_Array);
    ASSERT_EQ(cJSON_GetArraySize(a), 4);
    ASSERT_EQ(cJSON_GetArrayItem(a, 0)->type, cJSON_Number);
    ASSERT_EQ(cJSON_GetArrayItem(a, 1)->type, cJSON_True);
    ASSERT_EQ(cJSON_GetArrayItem(a, 1)->valueint, 1); /* as cJSON sets it */
    ASSERT_EQ(cJSON_GetArrayItem(a, 2)->type, cJSON_False);
    ASSERT_EQ(cJSON_GetArrayItem(a, 3)->type, cJSON_NULL);
    ASSERT(a->child->prev == cJSON_GetArrayItem(a, 3)); /* the head knows the tail */
    ASSERT_NULL(cJSON_GetArrayItem(a, 3)->next);
    cJSON_ArrayForEach(it, a)
        ASSERT_NULL(it->string);
    ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(root, "b")->valuestring, "x");
    ASSERT_STR_EQ(root->child->string, "a");
    ASSERT_STR_EQ(root->child->prev->string, "d");
    ASSERT(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "c")));
    ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(root, "c")->child);
    ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(root, "d")->child);
    ASSERT_NULL(cJSON_GetObjectItemCaseSensitive(root, "A")); /* case-sensitive */
    ASSERT(json_links_ok(root) && json_links_ok(a));
    json_tree_release(root);
}

TEST(scalars_at_the_top)
{
    static const char *const texts[] = { "\"s\"", " 12 ", "true", "false", "null", "{}", "[]",
                                         "[[]]", "[{}]", " {\"\":\"\"}\r\n" };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!same_as_cjson(texts[i]))
            TEST__FAIL("differs from cJSON: %s", texts[i]);
}

TEST(duplicate_keys_first_wins)
{
    cJSON *root;

    ASSERT_EQ(parse("{\"k\":1,\"k\":2,\"k\":\"three\"}", &root), 0);
    ASSERT_EQ(cJSON_GetArraySize(root), 3);
    ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(root, "k")->valueint, 1);
    ASSERT_EQ(root->child->prev->type, cJSON_String);
    json_tree_release(root);
    ASSERT(same_as_cjson("{\"k\":1,\"k\":2,\"k\":\"three\"}"));
    ASSERT(same_as_cjson("{\"o\":{\"k\":[],\"k\":{}},\"o\":1}"));
}

/* The number's valuedouble and valueint. */
static void check_number(const char *text, double want, int want_int)
{
    char json[64];
    cJSON *root;

    snprintf(json, sizeof json, "[%s]", text);
    ASSERT_EQ(parse(json, &root), 0);
    if (memcmp(&root->child->valuedouble, &want, sizeof want) != 0 ||
        root->child->valueint != want_int) {
        TEST__FAIL("%s: %.17g %d, want %.17g %d", text, root->child->valuedouble,
                   root->child->valueint, want, want_int);
    }
    json_tree_release(root);
    ASSERT(same_as_cjson(json));
}

TEST(numbers)
{
    check_number("0", 0.0, 0);
    check_number("-0", -0.0, 0);
    check_number("-0.0", -0.0, 0);
    check_number("1e308", 1e308, INT_MAX);
    check_number("-1e308", -1e308, INT_MIN);
    check_number("1e-400", 0.0, 0);
    check_number("-1e-400", -0.0, 0);
    check_number("1e400", HUGE_VAL, INT_MAX);
    check_number("-1e400", -HUGE_VAL, INT_MIN);
    check_number("2147483646", 2147483646.0, 2147483646);
    check_number("2147483647", 2147483647.0, INT_MAX);
    check_number("2147483648", 2147483648.0, INT_MAX);
    check_number("-2147483648", -2147483648.0, INT_MIN);
    check_number("-2147483649", -2147483649.0, INT_MIN);
    check_number("2147483646.9", 2147483646.9, 2147483646);
    check_number("-2.5", -2.5, -2);
    check_number("0.1", 0.1, 0);
    check_number("12.5E+2", 1250.0, 1250);
    check_number("125e-1", 12.5, 12);
    check_number("9007199254740993", 9007199254740992.0, INT_MAX);
    check_number("4.9406564584124654e-324", 4.9406564584124654e-324, 0);
}

/* Longer than the stack copy: the heap path, and cJSON (with Debian's
 * CVE-2023-26819 fix) reads all of it too. */
TEST(long_numbers)
{
    char json[600] = "[0.";
    cJSON *root;

    memset(json + 3, '3', 500);
    strcpy(json + 503, "e-2,");
    memset(json + 507, '7', 80);
    strcpy(json + 587, "]");
    ASSERT(same_as_cjson(json));
    ASSERT_EQ(parse(json, &root), 0);
    ASSERT_DBL_NEAR(root->child->valuedouble, 1.0 / 300, 1e-15);
    ASSERT_EQ(root->child->next->valueint, INT_MAX);
    json_tree_release(root);
}

TEST(strings_every_escape)
{
    cJSON *root;

    ASSERT_EQ(parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\uD83D\\uDE00 é€😀\"]",
                    &root), 0);
    ASSERT_STR_EQ(root->child->valuestring,
                  "\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 é€😀");
    json_tree_release(root);
    ASSERT(same_as_cjson("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\uD83D\\uDE00\"]"));
    ASSERT(same_as_cjson("{\"\\u006b\\n\":\"\\udbff\\udfff\",\"\":\"\"}"));
}

/* cJSON decodes \u0000 to a NUL byte: for every C string function the
 * string (or key) ends there. */
TEST(strings_nul_escape)
{
    cJSON *root;

    ASSERT_EQ(parse("{\"a\\u0000b\":\"x\\u0000y\"}", &root), 0);
    ASSERT_STR_EQ(root->child->string, "a");
    ASSERT_STR_EQ(root->child->valuestring, "x");
    ASSERT(cJSON_GetObjectItemCaseSensitive(root, "a") == root->child);
    json_tree_release(root);
    ASSERT(same_as_cjson("{\"a\\u0000b\":\"x\\u0000y\"}"));
}

/* What cJSON refuses is refused: a lone or reversed surrogate escape. And
 * what strict JSON refuses, which cJSON may accept. */
TEST(refused)
{
    static const char *const bad[] = {
        "[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]", "[\"\\ude00\\ud83d\"]",
        "[\"\\ud800\\\"]", "[\"\\x\"]", "[\"\\u12\"]", "", " ", "{", "[1,]", "{\"a\"}",
        "{\"a\":1,}", "[01]", "[1.]", "[+1]", "[.5]", "[1e]", "[\"\t\"]", "[\"\xff\"]",
        "[\"\xc0\xaf\"]", "\xef\xbb\xbf[]", "[]x", "[] []", "[\x01]", "{'a':1}", "[tru]",
        "[nul]", "[True]",
    };
    cJSON *root = (cJSON *)1;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse(bad[i], &root);
        if (rc != -EINVAL || root != NULL)
            TEST__FAIL("accepted or not -EINVAL (%d): %s", rc, bad[i]);
    }
    ASSERT_EQ(json_tree_parse(NULL, 0, &root), -EINVAL);
    ASSERT_EQ(json_tree_parse("[1]\0", 4, &root), -EINVAL); /* a NUL is no whitespace */
}

static char *nested(int depth)
{
    char *json = malloc((size_t)depth * 2 + 1);

    if (!json)
        abort();
    memset(json, '[', (size_t)depth);
    memset(json + depth, ']', (size_t)depth);
    json[depth * 2] = '\0';
    return json;
}

TEST(nesting_limit)
{
    char *at = nested(FRAME_DEPTH_MAX), *past = nested(FRAME_DEPTH_MAX + 1);
    cJSON *root, *it;
    int depth = 0;

    ASSERT_EQ(parse(at, &root), 0);
    for (it = root; it; it = it->child)
        depth++;
    ASSERT_EQ(depth, FRAME_DEPTH_MAX);
    json_tree_release(root);
    ASSERT(same_as_cjson(at));
    ASSERT_EQ(parse(past, &root), -EINVAL);
    free(at);
    free(past);
}

TEST(two_trees_alive)
{
    cJSON *a, *b, *c;

    ASSERT_EQ(parse("{\"first\":[1,2,3]}", &a), 0);
    ASSERT_EQ(parse("{\"second\":\"two\"}", &b), 0);
    ASSERT(a != b);
    ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(a, "first")), 3);
    ASSERT_STR_EQ(cJSON_GetObjectItemCaseSensitive(b, "second")->valuestring, "two");
    /* b is released first: a, in the arena, is untouched */
    json_tree_release(b);
    ASSERT_EQ(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(a, "first"), 2)->valueint, 3);
    ASSERT_EQ(parse("{\"third\":true}", &c), 0);
    ASSERT(c != a);
    ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(a, "first")->child->valueint, 1);
    json_tree_release(a);
    ASSERT(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "third")));
    json_tree_release(c);
}

TEST(arena_reused_after_release)
{
    cJSON *a, *b;

    ASSERT_EQ(parse("{\"connectorId\":1}", &a), 0);
    json_tree_release(a);
    ASSERT_EQ(parse("{\"evseId\":2}", &b), 0);
    ASSERT(a == b); /* the same block, no allocation */
    ASSERT_EQ(cJSON_GetObjectItemCaseSensitive(b, "evseId")->valueint, 2);
    json_tree_release(b);
    json_tree_release(NULL);
}

/* A tree larger than the arena may keep gets a block of its own; the arena
 * goes on serving the small ones. */
TEST(large_tree_own_block)
{
    size_t n = 20000, len = n * 2 + 1;
    char *json = malloc(len + 1);
    cJSON *big, *small, *again;

    if (!json)
        abort();
    for (size_t i = 0; i < n; i++)
        memcpy(json + i * 2, i ? ",7" : "[7", 2);
    memcpy(json + len - 1, "]", 2);
    ASSERT_EQ(parse("{}", &small), 0);
    json_tree_release(small);
    ASSERT_EQ(parse(json, &big), 0);
    ASSERT(big != small);
    ASSERT_EQ(cJSON_GetArraySize(big), (int)n);
    ASSERT_EQ(big->child->prev->valueint, 7);
    ASSERT(same_as_cjson(json));
    ASSERT_EQ(parse("{}", &again), 0);
    ASSERT(again == small);
    json_tree_release(big);
    json_tree_release(again);
    free(json);
}

/* OCPP payloads of both versions, as chargers and CSMSs send them. */
TEST(ocpp_payloads_as_cjson)
{
    static const char *const payloads[] = {
        "{\"chargePointVendor\":\"ACME\",\"chargePointModel\":\"Wallbox 22\","
        "\"chargePointSerialNumber\":\"SN-0001\",\"firmwareVersion\":\"1.2.3\"}",
        "{\"connectorId\":1,\"errorCode\":\"NoError\",\"status\":\"Charging\","
        "\"timestamp\":\"2024-05-01T10:00:00Z\"}",
        "{\"connectorId\":1,\"transactionId\":1234,\"meterValue\":[{\"timestamp\":"
        "\"2024-05-01T10:00:00.123+02:00\",\"sampledValue\":[{\"value\":\"12345.6\","
        "\"context\":\"Sample.Periodic\",\"measurand\":\"Energy.Active.Import.Register\","
        "\"location\":\"Outlet\",\"unit\":\"Wh\"},{\"value\":\"7360\",\"measurand\":"
        "\"Power.Active.Import\",\"unit\":\"W\"},{\"value\":\"10.7\",\"measurand\":"
        "\"Current.Import\",\"phase\":\"L1\",\"unit\":\"A\"}]}]}",
        "{\"eventType\":\"Updated\",\"timestamp\":\"2024-05-01T10:00:00Z\",\"triggerReason\":"
        "\"MeterValuePeriodic\",\"seqNo\":42,\"transactionInfo\":{\"transactionId\":"
        "\"9f2c1e4a-7b7d-4a57-9d8e-2f1f0c3b5a61\",\"chargingState\":\"Charging\"},\"evse\":"
        "{\"id\":1,\"connectorId\":1},\"meterValue\":[{\"timestamp\":\"2024-05-01T10:00:00Z\","
        "\"sampledValue\":[{\"value\":7.36,\"measurand\":\"Power.Active.Import\","
        "\"unitOfMeasure\":{\"unit\":\"kW\",\"multiplier\":3}},{\"value\":-0.0,"
        "\"phase\":\"L2\"}]}]}",
        "{\"connectorId\":0,\"csChargingProfiles\":{\"chargingProfileId\":7,\"stackLevel\":1,"
        "\"chargingProfilePurpose\":\"ChargePointMaxProfile\",\"chargingProfileKind\":"
        "\"Absolute\",\"chargingSchedule\":{\"duration\":86400,\"startSchedule\":"
        "\"2024-05-01T00:00:00Z\",\"chargingRateUnit\":\"A\",\"chargingSchedulePeriod\":"
        "[{\"startPeriod\":0,\"limit\":32.0,\"numberPhases\":3},{\"startPeriod\":3600,"
        "\"limit\":16.5}],\"minChargingRate\":6.0}}}",
        "{\"configurationKey\":[{\"key\":\"ChargeProfileMaxStackLevel\",\"readonly\":true,"
        "\"value\":\"8\"},{\"key\":\"ChargingScheduleAllowedChargingRateUnit\",\"readonly\":"
        "false,\"value\":\"Current,Power\"}],\"unknownKey\":[\"Nope\"]}",
        "{\"status\":\"Accepted\",\"currentTime\":\"2024-05-01T10:00:00Z\",\"interval\":300}",
        "{\"idTagInfo\":{\"status\":\"Accepted\",\"expiryDate\":\"2030-01-01T00:00:00Z\","
        "\"parentIdTag\":null},\"transactionId\":2147483648}",
        " {\r\n\t\"data\" : \"caf\\u00e9 \\\"quoted\\\" \\/ \\\\\" , \"n\" : [ ] , \"o\" : { } }\n",
    };

    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
        if (!same_as_cjson(payloads[i]))
            TEST__FAIL("payload %zu differs from cJSON", i);
}

/* A frame's payload, built without a second validation: the frame's value
 * count bounds it; a bound too small is refused, not overrun. */
TEST(payload_of_a_parsed_frame)
{
    static const char text[] =
        "[2,\"m1\",\"MeterValues\",{\"connectorId\":1,\"meterValue\":[{\"timestamp\":"
        "\"2024-05-01T10:00:00Z\",\"sampledValue\":[{\"value\":\"7.5\",\"unit\":\"kW\","
        "\"measurand\":\"Power.Active.Import\"},{\"value\":\"a\\u00e9\\n\"}]}]}]";
    struct frame f;
    size_t n;
    char *p = exact(text, &n);
    cJSON *built, *parsed;
    ASSERT_EQ(frame_parse(p, n, &f), FRAME_OK);
    ASSERT_EQ(json_tree_parse(f.payload.ptr, f.payload.len, &parsed), 0);
    ASSERT_EQ(json_tree_build(f.payload.ptr, f.payload.len, f.values, &built), 0);
    ASSERT(json_same_tree(built, parsed));
    json_tree_release(built);
    /* The payload holds 12 values: a bound of 11 is refused, 12 is enough. */
    ASSERT_EQ(json_tree_build(f.payload.ptr, f.payload.len, 11, &built), -EINVAL);
    ASSERT_NULL(built);
    ASSERT_EQ(json_tree_build(f.payload.ptr, f.payload.len, 12, &built), 0);
    ASSERT(json_same_tree(built, parsed));
    json_tree_release(built);
    ASSERT_EQ(json_tree_build(f.payload.ptr, f.payload.len, 0, &built), -EINVAL);
    ASSERT_EQ(json_tree_build(f.payload.ptr, 0, 13, &built), -EINVAL);
    json_tree_release(parsed);
    free(p);
}

int main(void)
{
    RUN(structure);
    RUN(scalars_at_the_top);
    RUN(duplicate_keys_first_wins);
    RUN(numbers);
    RUN(long_numbers);
    RUN(strings_every_escape);
    RUN(strings_nul_escape);
    RUN(refused);
    RUN(nesting_limit);
    RUN(two_trees_alive);
    RUN(arena_reused_after_release);
    RUN(large_tree_own_block);
    RUN(ocpp_payloads_as_cjson);
    RUN(payload_of_a_parsed_frame);
    return test_summary();
}
