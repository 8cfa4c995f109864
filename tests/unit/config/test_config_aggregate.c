/* The aggregate-mode keys of issue 10: upstream.ocpp_version (the site's own
 * OCPP version, aggregate mode only) and aggregate.id_token_type (what a 1.6
 * charger's idTag is toward a 2.0.1 site). Errors name the key, and a
 * failing parse leaves the struct zeroed. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_test.h"
#include "test.h"

static const char BASE[] =
    "{\"site\":{\"id\":\"DEPOT-01\",\"grid_limit_kw\":200},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\",\"mode\":\"aggregate\"},"
    "\"chargers\":[{\"id\":\"CP01\"},{\"id\":\"CP02\"}]}";

TEST(defaults)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    ASSERT_EQ(cfg.upstream.ocpp_version, CONFIG_OCPP_16);
    ASSERT_STR_EQ(cfg.aggregate.id_token_type, "ISO14443");
    config_free(&cfg);
}

TEST(versions)
{
    static const struct { const char *value; enum config_ocpp_version want; } ok[] = {
        { "\"1.6\"", CONFIG_OCPP_16 }, { "\"2.0.1\"", CONFIG_OCPP_201 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct config cfg;
        char *json = with(BASE, "upstream.ocpp_version", ok[i].value);
        ASSERT(parses(json, &cfg));
        ASSERT_EQ(cfg.upstream.ocpp_version, ok[i].want);
        config_free(&cfg);
        free(json);
    }
    static const char *const bad[] = { "\"2.0\"", "\"ocpp2.0.1\"", "2.01", "\"1.6J\"", "\"\"", "null", "[\"1.6\"]" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *json = with(BASE, "upstream.ocpp_version", bad[i]);
        bool failed = fails_with(json, "upstream.ocpp_version: must be one of \"1.6\", \"2.0.1\"");
        free(json);
        if (!failed)
            TEST__FAIL("ocpp_version %s accepted", bad[i]);
    }
}

TEST(version_is_aggregate_only)
{
    char *passthrough = with(BASE, "upstream.mode", "\"passthrough\"");
    char *json = with(passthrough, "upstream.ocpp_version", "\"2.0.1\"");
    ASSERT(fails_with(json, "upstream.ocpp_version: only with upstream.mode \"aggregate\" "
                            "(in passthrough each charger's own version goes upstream)"));
    free(json);
    /* 1.6, the default, says nothing in passthrough: accepted. */
    struct config cfg;
    json = with(passthrough, "upstream.ocpp_version", "\"1.6\"");
    ASSERT(parses(json, &cfg));
    config_free(&cfg);
    free(json);
    free(passthrough);
}

TEST(id_token_type)
{
    static const char *const ok[] = { "Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local",
                                      "MacAddress" };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct config cfg;
        char value[32];
        snprintf(value, sizeof(value), "\"%s\"", ok[i]);
        char *json = with(BASE, "aggregate.id_token_type", value);
        ASSERT(parses(json, &cfg));
        ASSERT_STR_EQ(cfg.aggregate.id_token_type, ok[i]);
        config_free(&cfg);
        free(json);
    }
    static const struct { const char *value, *err; } bad[] = {
        { "\"NoAuthorization\"", "aggregate.id_token_type: must be one of \"Central\", \"eMAID\", \"ISO14443\", "
                                 "\"ISO15693\", \"KeyCode\", \"Local\", \"MacAddress\"" },
        { "\"iso14443\"", "aggregate.id_token_type: must be one of \"Central\", \"eMAID\", \"ISO14443\", "
                          "\"ISO15693\", \"KeyCode\", \"Local\", \"MacAddress\"" },
        { "\"\"", "aggregate.id_token_type: must be 1 to 16 characters" },
        { "\"ISO14443ISO14443X\"", "aggregate.id_token_type: must be 1 to 16 characters" },
        { "14443", "aggregate.id_token_type: must be a string" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *json = with(BASE, "aggregate.id_token_type", bad[i].value);
        bool failed = fails_with(json, bad[i].err);
        free(json);
        if (!failed)
            TEST__FAIL("id_token_type %s", bad[i].value);
    }
}

TEST(example_and_readme_show_the_keys)
{
    size_t len;
    char *example = read_all(EXAMPLE_CONFIG, &len);
    char *readme = read_all(README_MD, &len);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    static const char *const keys[] = { "ocpp_version", "id_token_type" };
    char quoted[64], ticked[64];
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", keys[i]);
        snprintf(ticked, sizeof(ticked), "`%s`", keys[i]);
        if (!strstr(example, quoted))
            TEST__FAIL("example lacks %s", quoted);
        if (!strstr(readme, ticked))
            TEST__FAIL("README lacks %s", ticked);
    }
    /* The example still loads with them. */
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    int rc = config_load(EXAMPLE_CONFIG, &cfg, err);
    if (rc)
        TEST__FAIL("%s: %s", EXAMPLE_CONFIG, err);
    config_free(&cfg);
    free(example);
    free(readme);
}

int main(void)
{
    RUN(defaults);
    RUN(versions);
    RUN(version_is_aggregate_only);
    RUN(id_token_type);
    RUN(example_and_readme_show_the_keys);
    return test_summary();
}
