/* The "status" section (issue 8): the status listener and its token; and
 * live reload: which changed keys a SIGHUP applies (config_reload_diff) and
 * applying them in place (config_reload_apply). */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_test.h"
#include "test.h"

static const char BASE[] =
    "{\"site\":{\"id\":\"DEPOT-01\",\"grid_limit_kw\":200},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"status\":{}}";

TEST(absent_is_off)
{
    struct config cfg;
    char *json = with(BASE, "status", NULL);
    ASSERT(parses(json, &cfg));
    ASSERT(!cfg.status.enabled);
    ASSERT_NULL(cfg.status.listen);
    config_free(&cfg);
    free(json);
}

TEST(defaults)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    ASSERT(cfg.status.enabled);
    ASSERT_STR_EQ(cfg.status.listen, "127.0.0.1:8080");
    ASSERT_STR_EQ(cfg.status.address, "127.0.0.1");
    ASSERT_EQ(cfg.status.port, 8080);
    ASSERT_NULL(cfg.status.token);
    ASSERT_EQ(cfg.status.max_streams, 8);
    config_free(&cfg);
}

TEST(listen_forms)
{
    static const struct { const char *value, *address; int port; } ok[] = {
        { "\"0.0.0.0:9\"", "0.0.0.0", 9 },
        { "\"[::1]:65535\"", "::1", 65535 },
        { "\"localhost:1\"", "localhost", 1 },
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct config cfg;
        char *json = with(BASE, "status.listen", ok[i].value);
        ASSERT(parses(json, &cfg));
        ASSERT_STR_EQ(cfg.status.address, ok[i].address);
        ASSERT_EQ(cfg.status.port, ok[i].port);
        config_free(&cfg);
        free(json);
    }
    static const struct { const char *value, *err; } bad[] = {
        { "\"127.0.0.1\"", "status.listen: must be host:port, e.g. \"127.0.0.1:8080\"" },
        { "\"127.0.0.1:0\"", "status.listen: port must be between 1 and 65535" },
        { "\"127.0.0.1:http\"", "status.listen: port must be between 1 and 65535" },
        { "\"::1:80\"", "status.listen: must be host:port (an IPv6 address goes in [])" },
        { "\"[::1:80\"", "status.listen: must be [IPv6]:port for an IPv6 address" },
        { "\"bad host:80\"", "status.listen: has a malformed host" },
        { "8080", "status.listen: must be a string" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *json = with(BASE, "status.listen", bad[i].value);
        ASSERT(fails_with(json, bad[i].err));
        free(json);
    }
    char *json = with(BASE, "status.max_streams", "0");
    ASSERT(fails_with(json, "status.max_streams: must be between 1 and 1000"));
    free(json);
    json = with(BASE, "status.lisen", "\"127.0.0.1:80\"");
    ASSERT(fails_with(json, "status.lisen: unknown key"));
    free(json);
}

TEST(token_file)
{
    char *good = strdup(write_file("token", "0123456789abcdef-token\n", 23));
    char *shortt = strdup(write_file("short", "short\n", 6));
    char *spaced = strdup(write_file("spaced", "0123456789 abcdef-token", 23));
    char value[600];
    struct config cfg;
    snprintf(value, sizeof(value), "\"%s\"", good);
    char *json = with(BASE, "status.token_file", value);
    ASSERT(parses(json, &cfg));
    ASSERT_STR_EQ(cfg.status.token, "0123456789abcdef-token");
    config_free(&cfg);
    free(json);

    char want[700];
    snprintf(value, sizeof(value), "\"%s\"", shortt);
    snprintf(want, sizeof(want), "status.token_file: %s: the token must be 16 to 256 characters", shortt);
    json = with(BASE, "status.token_file", value);
    ASSERT(fails_with(json, want));
    free(json);
    snprintf(value, sizeof(value), "\"%s\"", spaced);
    snprintf(want, sizeof(want),
             "status.token_file: %s: the token may only hold printable ASCII without spaces", spaced);
    json = with(BASE, "status.token_file", value);
    ASSERT(fails_with(json, want));
    free(json);
    json = with(BASE, "status.token_file", "\"/nonexistent/token\"");
    ASSERT(!parses(json, &cfg));
    free(json);
    free(good);
    free(shortt);
    free(spaced);
}

/* --- live reload ----------------------------------------------------------- */

static const char RUNNING[] =
    "{\"site\":{\"id\":\"DEPOT-01\",\"grid_limit_kw\":200,\"margin_kw\":5,"
    "\"schedule\":[{\"from\":\"18:00\",\"to\":\"22:00\",\"grid_limit_kw\":150}]},"
    "\"listen\":{\"address\":\"127.0.0.1\",\"port\":9000},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"charger_defaults\":{\"max_current_a\":32},"
    "\"chargers\":[{\"id\":\"CP01\",\"priority\":1},{\"id\":\"CP02\",\"phases\":1}],"
    "\"balancer\":{\"deadband_a\":1,\"profile_id\":1000},"
    "\"status\":{\"listen\":\"127.0.0.1:8080\"},"
    "\"log_level\":\"info\"}";

/* The diff of RUNNING and RUNNING with path set to value. */
static int diff(const char *path, const char *value, char *applied, char *restart)
{
    char *changed = with(RUNNING, path, value);
    int n = config_reload_diff(RUNNING, strlen(RUNNING), changed, strlen(changed), applied, 256,
                               restart, 256);
    free(changed);
    return n;
}

TEST(reload_diff)
{
    char applied[256], restart[256];
    ASSERT_EQ(config_reload_diff(RUNNING, strlen(RUNNING), RUNNING, strlen(RUNNING), applied, 256,
                                 restart, 256), 0);
    ASSERT_STR_EQ(applied, "");
    ASSERT_STR_EQ(restart, "");

    static const struct { const char *path, *value, *applied, *restart; } cases[] = {
        { "site.grid_limit_kw", "180", "site.grid_limit_kw", "" },
        { "site.margin_kw", NULL, "site.margin_kw", "" },
        { "site.phase_limit_a", "300", "site.phase_limit_a", "" },
        { "site.schedule[0].grid_limit_kw", "120", "site.schedule", "" },
        { "chargers[0].priority", "5", "chargers[0].priority", "" },
        { "chargers[1].max_current_a", "16", "chargers[1].max_current_a", "" },
        { "charger_defaults.min_current_a", "8", "charger_defaults.min_current_a", "" },
        { "balancer.deadband_a", "2", "balancer.deadband_a", "" },
        { "log_level", "\"debug\"", "log_level", "" },
        { "listen.port", "9001", "", "listen.port" },
        { "upstream.url", "\"ws://10.0.0.1/ocpp\"", "", "upstream.url" },
        { "upstream.mode", "\"aggregate\"", "", "upstream.mode" },
        { "status.listen", "\"127.0.0.1:8081\"", "", "status.listen" },
        { "state_dir", "\"/tmp/x\"", "", "state_dir" },
        { "site.id", "\"OTHER\"", "", "site.id" },
        { "chargers[1].phases", "3", "", "chargers[1].phases" },
        { "chargers[1].id", "\"CP03\"", "", "chargers[1].id" },
        { "chargers", "[{\"id\":\"CP01\",\"priority\":1},{\"id\":\"CP02\",\"phases\":1},"
                      "{\"id\":\"CP03\"}]", "", "chargers" },
        { "balancer.profile_id", "7", "", "balancer.profile_id" },
        { "meters", "[]", "", "meters" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = diff(cases[i].path, cases[i].value, applied, restart);
        if (strcmp(applied, cases[i].applied) != 0 || strcmp(restart, cases[i].restart) != 0 ||
            n != (cases[i].restart[0] ? 1 : 0))
            TEST__FAIL("%s: applied \"%s\" restart \"%s\" n=%d", cases[i].path, applied, restart, n);
    }

    /* Several at once, and the names cut to fit. */
    char *two = with(RUNNING, "listen.port", "9001");
    char *three = with(two, "site.grid_limit_kw", "10");
    char *four = with(three, "upstream.url", "\"ws://x/ocpp\"");
    char small[24];
    ASSERT_EQ(config_reload_diff(RUNNING, strlen(RUNNING), four, strlen(four), applied, 256, small,
                                 sizeof(small)), 2);
    ASSERT_STR_EQ(applied, "site.grid_limit_kw");
    ASSERT_STR_EQ(small, "listen.port ...");
    ASSERT_EQ(config_reload_diff(RUNNING, strlen(RUNNING), "[1]", 3, applied, 256, restart, 256),
              -EINVAL);
    free(two);
    free(three);
    free(four);
}

TEST(reload_apply_keeps_the_pointers)
{
    struct config live, fresh;
    ASSERT(parses(RUNNING, &live));
    char *a = with(RUNNING, "site.grid_limit_kw", "120");
    char *b = with(a, "site.schedule[0].grid_limit_kw", "100");
    char *c = with(b, "chargers[1].max_current_a", "10");
    char *d = with(c, "log_level", "\"debug\"");
    ASSERT(parses(d, &fresh));
    const struct config_charger *cp02 = config_find_charger(&live, "CP02");
    char *url = live.upstream.url;
    config_reload_apply(&live, &fresh);
    config_free(&fresh);
    ASSERT_DBL_NEAR(live.site.grid_limit_kw, 120, 0);
    ASSERT_EQ(live.site.n_schedule, 1);
    ASSERT_DBL_NEAR(live.site.schedule[0].grid_limit_kw, 100, 0);
    ASSERT(config_find_charger(&live, "CP02") == cp02);
    ASSERT_DBL_NEAR(cp02->max_current_a, 10, 0);
    ASSERT_EQ(cp02->phases, 1);
    ASSERT_EQ(live.chargers[0].priority, 1);
    ASSERT(live.upstream.url == url);
    ASSERT_EQ(live.log_level, LOG_LVL_DEBUG);
    config_free(&live);
    free(a);
    free(b);
    free(c);
    free(d);
}

TEST(example_and_readme_show_the_keys)
{
    size_t len;
    char *example = read_all(EXAMPLE_CONFIG, &len);
    char *readme = read_all(README_MD, &len);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    ASSERT(strstr(example, "\"status\""));
    ASSERT(strstr(example, "\"max_streams\""));
    static const char *const keys[] = { "status`", "listen`", "token_file`", "max_streams`" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!strstr(readme, keys[i]))
            TEST__FAIL("README lacks %s", keys[i]);
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT_EQ(config_load(EXAMPLE_CONFIG, &cfg, err), 0);
    ASSERT(cfg.status.enabled);
    ASSERT_STR_EQ(cfg.status.listen, "127.0.0.1:8080");
    config_free(&cfg);
    free(example);
    free(readme);
}

int main(void)
{
    if (!tmpdir_create("test_config_status"))
        return 1;
    RUN(absent_is_off);
    RUN(defaults);
    RUN(listen_forms);
    RUN(token_file);
    RUN(reload_diff);
    RUN(reload_apply_keeps_the_pointers);
    RUN(example_and_readme_show_the_keys);
    tmpdir_remove();
    return test_summary();
}
