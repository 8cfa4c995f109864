/* The "openadr" section of the config (issue 7): demand response over MQTT.
 * Absent it is off; present it is checked like every other section, with
 * errors that name the key, and every failing parse leaves the struct
 * zeroed. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <math.h>
#include <stdbool.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "config_test.h"
#include "test.h"

static const char BASE[] =
    "{\"site\":{\"id\":\"DEPOT-01\",\"grid_limit_kw\":200},"
    "\"upstream\":{\"url\":\"ws://127.0.0.1:9100/ocpp\"},"
    "\"openadr\":{\"broker\":\"mqtt://127.0.0.1:1883\",\"ven_id\":\"DEPOT-01\","
    "\"programs\":[\"ev-peak-dr\"]}}";

TEST(absent_is_off)
{
    struct config cfg;
    char *json = with(BASE, "openadr", NULL);
    ASSERT(parses(json, &cfg));
    ASSERT(!cfg.openadr.enabled);
    ASSERT_NULL(cfg.openadr.broker);
    ASSERT_EQ(cfg.openadr.n_programs, 0);
    config_free(&cfg);
    free(json);
}

TEST(defaults)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    const struct config_openadr *o = &cfg.openadr;
    ASSERT(o->enabled);
    ASSERT_STR_EQ(o->broker, "mqtt://127.0.0.1:1883");
    ASSERT_STR_EQ(o->ven_id, "DEPOT-01");
    ASSERT_STR_EQ(o->topic_prefix, "oadr");
    ASSERT_EQ(o->n_programs, 1);
    ASSERT_STR_EQ(o->programs[0], "ev-peak-dr");
    ASSERT_EQ(o->n_groups, 0);
    ASSERT_STR_EQ(o->client_id, "sitegate-DEPOT-01");
    ASSERT_NULL(o->username);
    ASSERT_NULL(o->password);
    ASSERT_NULL(o->ca_file);
    ASSERT_NULL(o->cert_file);
    ASSERT_NULL(o->key_file);
    ASSERT_EQ(o->keepalive_s, 30);
    ASSERT_DBL_NEAR(o->reconnect_min_s, 1, 0);
    ASSERT_DBL_NEAR(o->reconnect_max_s, 60, 0);
    ASSERT_EQ(o->report_interval_s, 300);
    ASSERT_DBL_NEAR(o->simple_shed[0], 0, 0);
    ASSERT_DBL_NEAR(o->simple_shed[1], 0.25, 0);
    ASSERT_DBL_NEAR(o->simple_shed[2], 0.5, 0);
    ASSERT_DBL_NEAR(o->simple_shed[3], 0.75, 0);
    ASSERT_EQ(o->max_future_h, 168);
    ASSERT_EQ(o->max_message_bytes, 65536);
    config_free(&cfg);
}

TEST(every_value_set)
{
    char ca[200], cert[200], key[200], ca_path[180];
    snprintf(ca_path, sizeof(ca_path), "%s", write_file("ca.pem", "x", 1));
    snprintf(ca, sizeof(ca), "\"%s\"", ca_path);
    snprintf(cert, sizeof(cert), "\"%s\"", write_file("cert.pem", "x", 1));
    snprintf(key, sizeof(key), "\"%s\"", write_file("key.pem", "x", 1));
    static const struct { const char *key, *value; } set[] = {
        { "openadr.broker", "\"mqtts://broker.example.net:8883\"" },
        { "openadr.ven_id", "\"VEN_7.a:b\"" },
        { "openadr.topic_prefix", "\"utility/oadr3\"" },
        { "openadr.programs", "[\"ev-peak-dr\",\"tod_2\"]" },
        { "openadr.groups", "[\"north feeder\",\"zone-4\"]" },
        { "openadr.client_id", "\"depot-1.gw\"" },
        { "openadr.username", "\"depot01\"" },
        { "openadr.password", "\"s3cret pass\"" },
        { "openadr.keepalive_s", "60" },
        { "openadr.reconnect_min_s", "0.5" },
        { "openadr.reconnect_max_s", "30" },
        { "openadr.report_interval_s", "900" },
        { "openadr.simple_shed_fractions", "[0, 0.1, 0.1, 1]" },
        { "openadr.max_future_h", "48" },
        { "openadr.max_message_bytes", "1024" },
    };
    char *json = strdup(BASE);
    for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        char *next = with(json, set[i].key, set[i].value);
        free(json);
        json = next;
    }
    char *a = with(json, "openadr.ca_file", ca);
    char *b = with(a, "openadr.cert_file", cert);
    char *c = with(b, "openadr.key_file", key);
    struct config cfg;
    ASSERT(parses(c, &cfg));
    const struct config_openadr *o = &cfg.openadr;
    ASSERT_STR_EQ(o->broker, "mqtts://broker.example.net:8883");
    ASSERT_STR_EQ(o->ven_id, "VEN_7.a:b");
    ASSERT_STR_EQ(o->topic_prefix, "utility/oadr3");
    ASSERT_EQ(o->n_programs, 2);
    ASSERT_STR_EQ(o->programs[1], "tod_2");
    ASSERT_EQ(o->n_groups, 2);
    ASSERT_STR_EQ(o->groups[0], "north feeder");
    ASSERT_STR_EQ(o->client_id, "depot-1.gw");
    ASSERT_STR_EQ(o->username, "depot01");
    ASSERT_STR_EQ(o->password, "s3cret pass");
    ASSERT_STR_EQ(o->ca_file, ca_path);
    ASSERT_NOT_NULL(o->cert_file);
    ASSERT_NOT_NULL(o->key_file);
    ASSERT_EQ(o->keepalive_s, 60);
    ASSERT_DBL_NEAR(o->reconnect_min_s, 0.5, 0);
    ASSERT_DBL_NEAR(o->reconnect_max_s, 30, 0);
    ASSERT_EQ(o->report_interval_s, 900);
    ASSERT_DBL_NEAR(o->simple_shed[1], 0.1, 0);
    ASSERT_DBL_NEAR(o->simple_shed[3], 1, 0);
    ASSERT_EQ(o->max_future_h, 48);
    ASSERT_EQ(o->max_message_bytes, 1024);
    config_free(&cfg);
    free(json);
    free(a);
    free(b);
    free(c);
}

struct bad {
    const char *path;
    const char *value; /* JSON text; NULL removes the key */
    const char *error;
};

#define L129 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""

static const struct bad bad_values[] = {
    { "openadr", "[]", "openadr: must be an object" },
    { "openadr", "true", "openadr: must be an object" },
    { "openadr.brokr", "\"x\"", "openadr.brokr: unknown key" },
    { "openadr.broker", NULL, "openadr.broker: is required" },
    { "openadr.broker", "\"tcp://127.0.0.1:1883\"",
      "openadr.broker: must start with mqtt:// or mqtts://" },
    { "openadr.broker", "\"https://broker\"", "openadr.broker: must start with mqtt:// or mqtts://" },
    { "openadr.broker", "\"mqtt://\"", "openadr.broker: has a malformed host" },
    { "openadr.broker", "\"mqtt://user:pw@broker\"",
      "openadr.broker: must be mqtt[s]://host[:port], without a path or credentials" },
    { "openadr.broker", "\"mqtt://broker/path\"",
      "openadr.broker: must be mqtt[s]://host[:port], without a path or credentials" },
    { "openadr.broker", "\"mqtt://bro ker\"",
      "openadr.broker: must be mqtt[s]://host[:port], without a path or credentials" },
    { "openadr.broker", "\"mqtt://broker:0\"", "openadr.broker: port must be between 1 and 65535" },
    { "openadr.broker", "\"mqtt://broker:65536\"",
      "openadr.broker: port must be between 1 and 65535" },
    { "openadr.broker", "\"mqtt://broker:\"", "openadr.broker: port must be between 1 and 65535" },
    { "openadr.broker", "\"mqtt://broker:+1\"", "openadr.broker: port must be between 1 and 65535" },
    { "openadr.broker", "\"mqtt://[::1\"", "openadr.broker: has a malformed IPv6 address" },
    { "openadr.broker", "\"mqtt://bad_host\"", "openadr.broker: has a malformed host" },
    { "openadr.broker", "1883", "openadr.broker: must be a string" },
    { "openadr.ven_id", NULL, "openadr.ven_id: is required" },
    { "openadr.ven_id", "\"\"", "openadr.ven_id: must be 1 to 128 characters" },
    { "openadr.ven_id", L129, "openadr.ven_id: must be 1 to 128 characters" },
    { "openadr.ven_id", "\"a/b\"", "openadr.ven_id: may only contain letters, digits and ._:-" },
    { "openadr.ven_id", "\"a+\"", "openadr.ven_id: may only contain letters, digits and ._:-" },
    { "openadr.ven_id", "\"a#\"", "openadr.ven_id: may only contain letters, digits and ._:-" },
    { "openadr.topic_prefix", "\"\"", "openadr.topic_prefix: must be 1 to 128 characters" },
    { "openadr.topic_prefix", "\"/oadr\"",
      "openadr.topic_prefix: must not start or end with / or have empty levels" },
    { "openadr.topic_prefix", "\"oadr/\"",
      "openadr.topic_prefix: must not start or end with / or have empty levels" },
    { "openadr.topic_prefix", "\"a//b\"",
      "openadr.topic_prefix: must not start or end with / or have empty levels" },
    { "openadr.topic_prefix", "\"a/+/b\"",
      "openadr.topic_prefix: may only contain letters, digits and ._-/" },
    { "openadr.topic_prefix", "\"#\"", "openadr.topic_prefix: may only contain letters, digits and ._-/" },
    { "openadr.topic_prefix", "\"$SYS\"",
      "openadr.topic_prefix: may only contain letters, digits and ._-/" },
    { "openadr.programs", NULL, "openadr.programs: is required" },
    { "openadr.programs", "[]", "openadr.programs: must have 1 to 16 entries" },
    { "openadr.programs", "\"ev-peak-dr\"", "openadr.programs: must be an array" },
    { "openadr.programs", "[\"a\",\"a\"]", "openadr.programs[1]: duplicate \"a\"" },
    { "openadr.programs", "[\"a b\"]",
      "openadr.programs[0]: may only contain letters, digits, _ and -" },
    { "openadr.programs", "[\"a/b\"]",
      "openadr.programs[0]: may only contain letters, digits, _ and -" },
    { "openadr.programs", "[\"\"]", "openadr.programs[0]: must be 1 to 128 characters" },
    { "openadr.programs", "[" L129 "]", "openadr.programs[0]: must be 1 to 128 characters" },
    { "openadr.programs", "[1]", "openadr.programs[0]: must be a string" },
    { "openadr.programs", "[\"p1\",\"p2\",\"p3\",\"p4\",\"p5\",\"p6\",\"p7\",\"p8\",\"p9\","
                          "\"p10\",\"p11\",\"p12\",\"p13\",\"p14\",\"p15\",\"p16\",\"p17\"]",
      "openadr.programs: must have 1 to 16 entries" },
    { "openadr.groups", "[\"a\\u0001\"]", "openadr.groups[0]: must not contain control characters" },
    { "openadr.groups", "[\"g\",\"g\"]", "openadr.groups[1]: duplicate \"g\"" },
    { "openadr.groups", "{}", "openadr.groups: must be an array" },
    { "openadr.client_id", "\"a b\"", "openadr.client_id: may only contain letters, digits and ._:-" },
    { "openadr.client_id", "\"\"", "openadr.client_id: must be 1 to 128 characters" },
    { "openadr.username", "\"\"", "openadr.username: must be 1 to 256 characters" },
    { "openadr.password", "\"pw\"", "openadr.username: is required with a password" },
    { "openadr.password", "\"\"", "openadr.password: the password must be 1 to 256 characters" },
    { "openadr.password", "5", "openadr.password: must be a string" },
    { "openadr.keepalive_s", "4", "openadr.keepalive_s: must be between 5 and 3600" },
    { "openadr.keepalive_s", "10.5", "openadr.keepalive_s: must be an integer" },
    { "openadr.reconnect_min_s", "0", "openadr.reconnect_min_s: must be between 0.1 and 600" },
    { "openadr.reconnect_max_s", "0.5", "openadr.reconnect_max_s: must be at least reconnect_min_s" },
    { "openadr.reconnect_max_s", "3601", "openadr.reconnect_max_s: must be between 0.1 and 3600" },
    { "openadr.report_interval_s", "0", "openadr.report_interval_s: must be between 1 and 86400" },
    { "openadr.simple_shed_fractions", "[0,0.5,1]",
      "openadr.simple_shed_fractions: must be an array of 4 numbers (SIMPLE levels 0 to 3)" },
    { "openadr.simple_shed_fractions", "0.5",
      "openadr.simple_shed_fractions: must be an array of 4 numbers (SIMPLE levels 0 to 3)" },
    { "openadr.simple_shed_fractions", "[0,0.5,1.5,1]",
      "openadr.simple_shed_fractions[2]: must be a number from 0 to 1" },
    { "openadr.simple_shed_fractions", "[0,0.5,-0.1,1]",
      "openadr.simple_shed_fractions[2]: must be a number from 0 to 1" },
    { "openadr.simple_shed_fractions", "[0,0.5,0.4,1]",
      "openadr.simple_shed_fractions[2]: must not be below the level before (0.5)" },
    { "openadr.simple_shed_fractions", "[0,\"0.5\",1,1]",
      "openadr.simple_shed_fractions[1]: must be a number from 0 to 1" },
    { "openadr.simple_shed_fractions", "[0,0.5,1e999,1]",
      "openadr.simple_shed_fractions[2]: must be a number from 0 to 1" },
    { "openadr.max_future_h", "0", "openadr.max_future_h: must be between 1 and 8760" },
    { "openadr.max_message_bytes", "1023",
      "openadr.max_message_bytes: must be between 1024 and 1048576" },
    { "openadr.ven_id", "null", "openadr.ven_id: must be a string" },
};

TEST(bad_values)
{
    int failed = 0;
    for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        const struct bad *b = &bad_values[i];
        char *json = with(BASE, b->path, b->value);
        if (!fails_with(json, b->error))
            failed++;
        free(json);
    }
    ASSERT_EQ(failed, 0);
}

TEST(tls_files)
{
    char *tls = with(BASE, "openadr.broker", "\"mqtts://127.0.0.1\"");
    char *missing = with(tls, "openadr.ca_file", "\"/nonexistent/ca.pem\"");
    ASSERT(fails_with(missing, "openadr.ca_file: cannot read /nonexistent/ca.pem: "
                               "No such file or directory"));
    char cert[200];
    snprintf(cert, sizeof(cert), "\"%s\"", write_file("c.pem", "x", 1));
    char *only_cert = with(tls, "openadr.cert_file", cert);
    ASSERT(fails_with(only_cert, "openadr.key_file: cert_file and key_file go together"));
    char *only_key = with(tls, "openadr.key_file", cert);
    ASSERT(fails_with(only_key, "openadr.cert_file: cert_file and key_file go together"));
    char *plain_cert = with(BASE, "openadr.cert_file", cert);
    ASSERT(fails_with(plain_cert, "openadr.cert_file: only with an mqtts:// broker"));
    char *dir = with(tls, "openadr.ca_file", "\"/tmp\"");
    ASSERT(fails_with(dir, "openadr.ca_file: cannot read /tmp: Is a directory"));
    struct config cfg;
    ASSERT(parses(tls, &cfg));
    ASSERT_NULL(cfg.openadr.ca_file); /* the system's CAs */
    config_free(&cfg);
    free(tls);
    free(missing);
    free(only_cert);
    free(only_key);
    free(plain_cert);
    free(dir);
}

TEST(password_file)
{
    char path[200];
    snprintf(path, sizeof(path), "\"%s\"", write_file("mqtt.pw", "top secret\n", 11));
    char *a = with(BASE, "openadr.username", "\"depot\"");
    char *b = with(a, "openadr.password_file", path);
    struct config cfg;
    ASSERT(parses(b, &cfg));
    ASSERT_STR_EQ(cfg.openadr.password, "top secret");
    config_free(&cfg);
    /* not both */
    char *c = with(b, "openadr.password", "\"other\"");
    ASSERT(fails_with(c, "openadr.password_file: cannot be used together with password"));
    /* empty, missing, NUL inside, too long */
    snprintf(path, sizeof(path), "\"%s\"", write_file("empty.pw", "\n", 1));
    char *d = with(a, "openadr.password_file", path);
    char want[300];
    snprintf(want, sizeof(want), "openadr.password_file: %s/empty.pw: holds no password", tmpdir);
    ASSERT(fails_with(d, want));
    char *e = with(a, "openadr.password_file", "\"/nonexistent/pw\"");
    ASSERT(fails_with(e, "openadr.password_file: cannot read /nonexistent/pw: No such file or "
                         "directory"));
    snprintf(path, sizeof(path), "\"%s\"", write_file("nul.pw", "ab\0cd", 5));
    char *f = with(a, "openadr.password_file", path);
    snprintf(want, sizeof(want), "openadr.password_file: %s/nul.pw: contains a NUL byte", tmpdir);
    ASSERT(fails_with(f, want));
    char big[300];
    memset(big, 'p', sizeof(big));
    snprintf(path, sizeof(path), "\"%s\"", write_file("big.pw", big, sizeof(big)));
    char *g = with(a, "openadr.password_file", path);
    snprintf(want, sizeof(want), "openadr.password_file: %s/big.pw: larger than 256 bytes",
             tmpdir);
    ASSERT(fails_with(g, want));
    char *h = with(a, "openadr.password_file", "5");
    ASSERT(fails_with(h, "openadr.password_file: must be a file name of 1 to 4096 characters"));
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
    free(f);
    free(g);
    free(h);
}

TEST(secrets_not_in_errors)
{
    char *a = with(BASE, "openadr.password", "\"hunter2-secret\"");
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    ASSERT(parse(a, &cfg, err) != 0);
    ASSERT_NULL(strstr(err, "hunter2"));
    free(a);
}

TEST(ipv6_and_default_ports)
{
    static const char *const good[] = {
        "\"mqtt://[::1]:1883\"", "\"mqtts://[2001:db8::1]\"", "\"mqtt://broker.local\"",
        "\"mqtt://10.0.0.5\"",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char *json = with(BASE, "openadr.broker", good[i]);
        struct config cfg;
        if (!parses(json, &cfg))
            TEST__FAIL("refused %s", good[i]);
        config_free(&cfg);
        free(json);
    }
}

/* Every key is in the example (but secrets and files that must exist) and
 * has a row in the README's openadr section. */
TEST(example_and_readme_show_the_openadr_keys)
{
    static const struct { const char *key; bool in_example; } keys[] = {
        { "broker", true }, { "ven_id", true }, { "topic_prefix", true },
        { "programs", true }, { "groups", true }, { "client_id", true },
        { "username", false }, { "password", false }, { "password_file", false },
        { "ca_file", false }, { "cert_file", false }, { "key_file", false },
        { "keepalive_s", true }, { "reconnect_min_s", true }, { "reconnect_max_s", true },
        { "report_interval_s", true }, { "simple_shed_fractions", true },
        { "max_future_h", true }, { "max_message_bytes", true },
    };
    struct config cfg;
    char err[CONFIG_ERR_MAX];
    int rc = config_load(EXAMPLE_CONFIG, &cfg, err);
    if (rc)
        TEST__FAIL("%s: %s", EXAMPLE_CONFIG, err);
    bool enabled = cfg.openadr.enabled;
    bool ven = enabled && strcmp(cfg.openadr.ven_id, "DEPOT-01") == 0;
    bool program = enabled && strcmp(cfg.openadr.programs[0], "ev-peak-dr") == 0;
    config_free(&cfg);
    ASSERT(enabled && ven && program);

    char *example = read_all(EXAMPLE_CONFIG, NULL);
    char *readme = read_all(README_MD, NULL);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    char *section = strstr(readme, "\n### `openadr`");
    char *example_section = strstr(example, "\"openadr\"");
    if (!section || !example_section) {
        free(example);
        free(readme);
        TEST__FAIL("no openadr section in %s", section ? "the example" : "the README");
    }
    char *next = strstr(section + 1, "\n### ");
    if (next)
        *next = '\0';
    int failed = 0;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char quoted[64], row[64];
        snprintf(quoted, sizeof(quoted), "\"%s\"", keys[i].key);
        snprintf(row, sizeof(row), "| `%s` |", keys[i].key);
        if (keys[i].in_example && !strstr(example_section, quoted)) {
            fprintf(stderr, "  example lacks openadr.%s\n", keys[i].key);
            failed++;
        }
        if (!strstr(section, row)) {
            fprintf(stderr, "  README's openadr section lacks %s\n", row);
            failed++;
        }
    }
    free(example);
    free(readme);
    ASSERT_EQ(failed, 0);
}

int main(void)
{
    if (!tmpdir_create("test_config_openadr"))
        return 1;
    RUN(absent_is_off);
    RUN(defaults);
    RUN(every_value_set);
    RUN(bad_values);
    RUN(tls_files);
    RUN(password_file);
    RUN(secrets_not_in_errors);
    RUN(ipv6_and_default_ports);
    RUN(example_and_readme_show_the_openadr_keys);
    tmpdir_remove();
    return test_summary();
}
