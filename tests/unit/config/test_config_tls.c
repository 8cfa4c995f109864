/* The security keys of the config (issue 9): listen.tls, client certificates
 * toward the CSMS, chargers' security profiles, and the connection limits.
 * Certificates are made here (EC P-256, self-signed) so that the pair checks
 * run on real PEM files; every failing parse must leave the struct zeroed. */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <stdbool.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "config_test.h"
#include "test.h"

static const char BASE[] =
    "{\"site\":{\"id\":\"DEPOT-01\",\"grid_limit_kw\":200},"
    "\"listen\":{\"port\":9000},"
    "\"upstream\":{\"url\":\"wss://csms.example.com/ocpp\"},"
    "\"chargers\":[{\"id\":\"CP01\"},{\"id\":\"CP02\"}]}";

/* "path" of each file made by make_pair, JSON-quoted. */
static char cert_a[200], key_a[200], cert_b[200], key_b[200], not_pem[200];

static bool make_pair(const char *name, char *cert_json, char *key_json)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    bool ok = k && x && X509_set_version(x, 2) &&
              ASN1_INTEGER_set(X509_get_serialNumber(x), 1) &&
              X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
              X509_gmtime_adj(X509_getm_notAfter(x), 3600) && X509_set_pubkey(x, k) &&
              X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                         (const unsigned char *)name, -1, -1, 0) &&
              X509_set_issuer_name(x, X509_get_subject_name(x)) && X509_sign(x, k, EVP_sha256());
    char path[160];
    FILE *f = NULL;
    if (ok) {
        snprintf(path, sizeof(path), "%s/%s.crt", tmpdir, name);
        ok = (f = fopen(path, "w")) && PEM_write_X509(f, x);
        if (f)
            fclose(f);
        snprintf(cert_json, 200, "\"%s\"", path);
    }
    if (ok) {
        snprintf(path, sizeof(path), "%s/%s.key", tmpdir, name);
        ok = (f = fopen(path, "w")) && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
        if (f)
            fclose(f);
        snprintf(key_json, 200, "\"%s\"", path);
    }
    X509_free(x);
    EVP_PKEY_free(k);
    return ok;
}

/* BASE with the (path, value) pairs set, in order. */
static char *with_all(const char *const *set, size_t n)
{
    char *json = strdup(BASE);
    for (size_t i = 0; i < n; i += 2) {
        char *next = with(json, set[i], set[i + 1]);
        free(json);
        json = next;
    }
    return json;
}

#define WITH(...) with_all((const char *const[]){ __VA_ARGS__ }, \
                           sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *))

TEST(defaults)
{
    struct config cfg;
    ASSERT(parses(BASE, &cfg));
    ASSERT(cfg.listen.plain);
    ASSERT(!cfg.listen.tls.enabled);
    ASSERT_NULL(cfg.listen.tls.cert_file);
    ASSERT_NULL(cfg.listen.tls.ciphers);
    ASSERT_NULL(cfg.upstream.cert_file);
    ASSERT_NULL(cfg.upstream.key_file);
    ASSERT_EQ(cfg.charger_defaults.security_profile, 0);
    ASSERT_EQ(cfg.chargers[0].security_profile, 0);
    ASSERT_NULL(cfg.chargers[0].upstream_cert_file);
    ASSERT_EQ(cfg.limits.max_connections, 10000);
    ASSERT_EQ(cfg.limits.max_connections_per_address, 0);
    ASSERT_DBL_NEAR(cfg.limits.charger_frames_per_s, 100, 0);
    ASSERT_EQ(cfg.limits.handshake_timeout_s, 10);
    ASSERT_EQ(cfg.limits.idle_timeout_s, 0);
    ASSERT_EQ(cfg.limits.max_queued_bytes, 4194304);
    config_free(&cfg);
}

TEST(every_value_set)
{
    char ca[200];
    snprintf(ca, sizeof(ca), "%s", cert_b);
    char *json = WITH("listen.plain", "false", "listen.tls", "{}", "listen.tls.port", "9443",
                      "listen.tls.cert_file", cert_a, "listen.tls.key_file", key_a,
                      "listen.tls.ca_file", ca, "listen.tls.client_id_field", "\"serial\"",
                      "listen.tls.min_version", "\"1.3\"",
                      "listen.tls.ciphers", "\"ECDHE-RSA-AES128-GCM-SHA256\"",
                      "upstream.cert_file", cert_a, "upstream.key_file", key_a,
                      "charger_defaults.security_profile", "3",
                      "chargers[1].upstream_cert_file", cert_b,
                      "chargers[1].upstream_key_file", key_b,
                      "chargers[1].security_profile", "2",
                      "chargers[1].password_hash",
                      "\"pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$"
                      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
                      "limits.max_connections", "50", "limits.max_connections_per_address", "5",
                      "limits.charger_frames_per_s", "2.5", "limits.handshake_timeout_s", "3",
                      "limits.idle_timeout_s", "600", "limits.max_queued_bytes", "65536");
    struct config cfg;
    ASSERT(parses(json, &cfg));
    free(json);
    const struct config_listen_tls *t = &cfg.listen.tls;
    ASSERT(!cfg.listen.plain);
    ASSERT(t->enabled);
    ASSERT_EQ(t->port, 9443);
    ASSERT(strstr(cert_a, t->cert_file));
    ASSERT(strstr(key_a, t->key_file));
    ASSERT(strstr(cert_b, t->ca_file));
    ASSERT_EQ(t->client_id_field, CONFIG_CERT_ID_SERIAL);
    ASSERT_EQ(t->min_version, CONFIG_TLS_1_3);
    ASSERT_STR_EQ(t->ciphers, "ECDHE-RSA-AES128-GCM-SHA256");
    ASSERT(strstr(cert_a, cfg.upstream.cert_file));
    ASSERT(strstr(key_a, cfg.upstream.key_file));
    ASSERT_EQ(cfg.chargers[0].security_profile, 3); /* inherited */
    ASSERT_NULL(cfg.chargers[0].upstream_cert_file);
    ASSERT_EQ(cfg.chargers[1].security_profile, 2);
    ASSERT(strstr(cert_b, cfg.chargers[1].upstream_cert_file));
    ASSERT(strstr(key_b, cfg.chargers[1].upstream_key_file));
    ASSERT_EQ(cfg.limits.max_connections, 50);
    ASSERT_EQ(cfg.limits.max_connections_per_address, 5);
    ASSERT_DBL_NEAR(cfg.limits.charger_frames_per_s, 2.5, 0);
    ASSERT_EQ(cfg.limits.handshake_timeout_s, 3);
    ASSERT_EQ(cfg.limits.idle_timeout_s, 600);
    ASSERT_EQ(cfg.limits.max_queued_bytes, 65536);
    config_free(&cfg);
}

TEST(tls_defaults)
{
    char *json = WITH("listen.tls", "{}", "listen.tls.port", "9443", "listen.tls.cert_file",
                      cert_a, "listen.tls.key_file", key_a);
    struct config cfg;
    ASSERT(parses(json, &cfg));
    free(json);
    ASSERT(cfg.listen.plain);
    ASSERT_NULL(cfg.listen.tls.ca_file);
    ASSERT_EQ(cfg.listen.tls.client_id_field, CONFIG_CERT_ID_CN);
    ASSERT_EQ(cfg.listen.tls.min_version, CONFIG_TLS_1_2);
    /* No CBC, no RC4, no export suites: forward secret AEAD first. */
    ASSERT(strncmp(cfg.listen.tls.ciphers, "ECDHE-", 6) == 0);
    ASSERT_NULL(strstr(cfg.listen.tls.ciphers, "CBC"));
    ASSERT_NULL(strstr(cfg.listen.tls.ciphers, "RC4"));
    config_free(&cfg);
}

/* The required keys of listen.tls, for cases about the others. */
#define TLS_OK "listen.tls", "{}", "listen.tls.port", "9443", "listen.tls.cert_file", cert_a, \
               "listen.tls.key_file", key_a

struct bad {
    const char *set[12];
    const char *want;
};

TEST(bad_values)
{
    static char msg[16][300];
    const struct bad cases[] = {
        { { "listen.plain", "false" }, "listen.plain: false needs listen.tls" },
        { { "listen.plain", "1" }, "listen.plain: must be true or false" },
        { { "listen.tls", "{}", "listen.tls.cert_file", cert_a, "listen.tls.key_file", key_a },
          "listen.tls.port: is required" },
        { { "listen.tls", "{}", "listen.tls.port", "9443", "listen.tls.key_file", key_a },
          "listen.tls.cert_file: is required" },
        { { "listen.tls", "[]" }, "listen.tls: must be an object" },
        { { "listen.tls", "{}", "listen.tls.port", "9000", "listen.tls.cert_file", cert_a,
            "listen.tls.key_file", key_a },
          "listen.tls.port: must differ from listen.port (9000)" },
        { { "listen.tls", "{}", "listen.tls.port", "0" }, "listen.tls.port: must be between 1 and 65535" },
        { { TLS_OK, "listen.tls.client_id_field", "\"CN\"" },
          "listen.tls.client_id_field: must be one of \"cn\", \"serial\"" },
        { { TLS_OK, "listen.tls.min_version", "\"1.1\"" },
          "listen.tls.min_version: must be one of \"1.2\", \"1.3\"" },
        { { TLS_OK, "listen.tls.ciphers", "\"AES128 SHA\"" },
          "listen.tls.ciphers: must be an OpenSSL cipher list without spaces" },
        { { "listen.tls", "{}", "listen.tls.verify", "true" }, "listen.tls.verify: unknown key" },
        { { "chargers[0].security_profile", "4" },
          "chargers[0].security_profile: must be between 0 and 3" },
        { { "chargers[0].security_profile", "1" },
          "chargers[0].security_profile: 1 needs password_hash or password_file" },
        { { "charger_defaults.upstream_cert_file", cert_a },
          "charger_defaults.upstream_cert_file: only allowed in chargers[] entries" },
        { { "limits.max_connections", "0" }, "limits.max_connections: must be between 1 and 100000" },
        { { "limits.charger_frames_per_s", "-1" },
          "limits.charger_frames_per_s: must be between 0 and 100000" },
        { { "limits.handshake_timeout_s", "0" }, "limits.handshake_timeout_s: must be between 1 and 600" },
        { { "limits.idle_timeout_s", "-1" }, "limits.idle_timeout_s: must be between 0 and 604800" },
        { { "limits.max_connections_per_address", "1.5" },
          "limits.max_connections_per_address: must be an integer" },
        { { "limits.max_queued_bytes", "1000" },
          "limits.max_queued_bytes: must be between 1024 and 1073741824" },
        { { "upstream.key_file", key_a }, "upstream.key_file: needs cert_file" },
        { { "chargers[1].upstream_cert_file", cert_a },
          "chargers[1].upstream_cert_file: needs upstream_key_file" },
        { { "upstream.cert_file", cert_a, "upstream.key_file", key_b },
          msg[0] },
        { { "upstream.url", "\"ws://csms.example.com/ocpp\"", "upstream.cert_file", cert_a,
            "upstream.key_file", key_a },
          "upstream.cert_file: only with a wss:// upstream.url" },
        { { "upstream.cert_file", not_pem, "upstream.key_file", key_a }, msg[1] },
        { { "upstream.cert_file", cert_a, "upstream.key_file", cert_a }, msg[2] },
        { { "upstream.cert_file", "\"/nonexistent/a.crt\"" },
          "upstream.cert_file: cannot read /nonexistent/a.crt: No such file or directory" },
        { { "chargers[0].security_profile", "2", "chargers[0].password_hash",
            "\"pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA==$"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"" },
          "chargers[0].security_profile: 2 needs listen.tls" },
        { { "listen.tls", "{}", "listen.tls.port", "9443", "listen.tls.cert_file", cert_a,
            "listen.tls.key_file", key_a, "chargers[1].security_profile", "3" },
          "chargers[1].security_profile: 3 needs listen.tls.ca_file" },
        { { "listen.tls", "{}", "listen.tls.port", "9443", "listen.tls.cert_file", cert_a,
            "listen.tls.key_file", key_a, "listen.tls.ca_file", not_pem },
          msg[3] },
        { { "listen.allow_unknown_chargers", "true", "charger_defaults.security_profile", "1" },
          "charger_defaults.security_profile: 1 needs a password, which unknown chargers "
          "(listen.allow_unknown_chargers) cannot have" },
    };
    /* Messages that name the made-up files (their paths without the quotes). */
    snprintf(msg[0], sizeof(msg[0]), "upstream.key_file: %.*s is not the key of upstream.cert_file",
             (int)strlen(key_b) - 2, key_b + 1);
    snprintf(msg[1], sizeof(msg[1]), "upstream.cert_file: %.*s holds no PEM certificate",
             (int)strlen(not_pem) - 2, not_pem + 1);
    snprintf(msg[2], sizeof(msg[2]),
             "upstream.key_file: %.*s holds no unencrypted PEM private key",
             (int)strlen(cert_a) - 2, cert_a + 1);
    snprintf(msg[3], sizeof(msg[3]), "listen.tls.ca_file: %.*s holds no PEM certificate",
             (int)strlen(not_pem) - 2, not_pem + 1);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = 0;
        while (n < 12 && cases[i].set[n])
            n++;
        char *json = with_all(cases[i].set, n);
        bool ok = fails_with(json, cases[i].want);
        free(json);
        if (!ok)
            TEST__FAIL("case %zu", i);
    }
}

/* The key file's content never shows in an error, whatever goes wrong. */
TEST(key_not_in_errors)
{
    char path[200];
    snprintf(path, sizeof(path), "%.*s", (int)strlen(key_a) - 2, key_a + 1);
    char *pem = read_all(path, NULL);
    ASSERT_NOT_NULL(pem);
    const char *body = strchr(pem, '\n') + 1; /* past "-----BEGIN PRIVATE KEY-----" */
    char line[32];
    snprintf(line, sizeof(line), "%.20s", body);
    const char *const sets[][4] = {
        { "upstream.cert_file", key_a, "upstream.key_file", key_a },
        { "upstream.cert_file", cert_a, "upstream.key_file", key_b },
        { "listen.tls", "{}", "listen.tls.ca_file", key_a },
    };
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
        char *json = with_all(sets[i], 4);
        struct config cfg;
        char err[CONFIG_ERR_MAX];
        int rc = parse(json, &cfg, err);
        free(json);
        ASSERT_NE(rc, 0);
        ASSERT_NULL(strstr(err, line));
        ASSERT_NULL(strstr(err, "PRIVATE KEY"));
    }
    free(pem);
}

/* Each key in config/README.md; in the example those that name no file. */
TEST(readme_and_example_show_the_keys)
{
    static const char *const example_keys[] = {
        "plain", "security_profile", "max_connections", "max_connections_per_address",
        "charger_frames_per_s", "handshake_timeout_s", "idle_timeout_s", "max_queued_bytes",
    };
    static const char *const readme_keys[] = {
        "plain", "tls", "port", "cert_file", "key_file", "ca_file", "client_id_field",
        "min_version", "ciphers", "security_profile", "upstream_cert_file", "upstream_key_file",
        "max_connections", "max_connections_per_address", "charger_frames_per_s",
        "handshake_timeout_s", "idle_timeout_s", "max_queued_bytes",
    };
    char *example = read_all(EXAMPLE_CONFIG, NULL);
    char *readme = read_all(README_MD, NULL);
    ASSERT_NOT_NULL(example);
    ASSERT_NOT_NULL(readme);
    char quoted[64], ticked[64];
    for (size_t i = 0; i < sizeof(example_keys) / sizeof(example_keys[0]); i++) {
        snprintf(quoted, sizeof(quoted), "\"%s\"", example_keys[i]);
        if (!strstr(example, quoted))
            TEST__FAIL("example lacks %s", quoted);
    }
    for (size_t i = 0; i < sizeof(readme_keys) / sizeof(readme_keys[0]); i++) {
        snprintf(ticked, sizeof(ticked), "`%s`", readme_keys[i]);
        if (!strstr(readme, ticked))
            TEST__FAIL("README lacks %s", ticked);
    }
    free(example);
    free(readme);
}

int main(void)
{
    if (!tmpdir_create("test_config_tls") || !make_pair("a", cert_a, key_a) ||
        !make_pair("b", cert_b, key_b))
        return 1;
    snprintf(not_pem, sizeof(not_pem), "\"%s\"", write_file("not.pem", "hello\n", 6));
    RUN(defaults);
    RUN(every_value_set);
    RUN(tls_defaults);
    RUN(bad_values);
    RUN(key_not_in_errors);
    RUN(readme_and_example_show_the_keys);
    tmpdir_remove();
    return test_summary();
}
