/* TLS and security-profile keys: the "listen.tls" section (wss:// toward the
 * chargers), the client certificates toward the CSMS, and the rules between
 * them and the chargers' security profiles. Certificates and keys are read
 * here once, so that `sitegate -t` finds a key that does not match its
 * certificate, not the first charger that connects. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config_int.h"

/* Mozilla's "intermediate" TLS 1.2 suites (forward secret, AEAD), then the two
 * RSA-key-exchange suites the OCPP security whitepaper requires of chargers
 * that have nothing better. */
#define CONFIG__TLS_CIPHERS                                                                  \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"   \
    "AES128-GCM-SHA256:AES256-GCM-SHA384"

_Static_assert(sizeof(enum config_cert_id) == sizeof(int), "enum size");
_Static_assert(sizeof(enum config_tls_min) == sizeof(int), "enum size");

static const struct config__name config__cert_ids[] = {
    { "cn", CONFIG_CERT_ID_CN }, { "serial", CONFIG_CERT_ID_SERIAL }, { 0 },
};
static const struct config__name config__tls_mins[] = {
    { "1.2", CONFIG_TLS_1_2 }, { "1.3", CONFIG_TLS_1_3 }, { 0 },
};

static int config__check_ciphers(struct config__ctx *ctx, char *s)
{
    for (const char *c = s; *c; c++) {
        if (*c <= ' ' || *c > '~')
            return config__fail(ctx, "must be an OpenSSL cipher list without spaces");
    }
    return 0;
}

#define TLS_KEY(key, ty, field, ...) \
    { .name = key, .type = CONFIG__##ty, .off = offsetof(struct config_listen_tls, field), __VA_ARGS__ }

static const struct config__key config__tls_keys[] = {
    TLS_KEY("port", INT, port, .flags = CONFIG__REQUIRED, .min = 1, .max = 65535),
    TLS_KEY("cert_file", STR, cert_file, .flags = CONFIG__REQUIRED, .min = 1,
            .max = CONFIG__PATHNAME_MAX, .check = config__check_readable),
    TLS_KEY("key_file", STR, key_file, .flags = CONFIG__REQUIRED, .min = 1,
            .max = CONFIG__PATHNAME_MAX, .check = config__check_readable),
    TLS_KEY("ca_file", STR, ca_file, .min = 1, .max = CONFIG__PATHNAME_MAX,
            .check = config__check_readable),
    TLS_KEY("client_id_field", ENUM, client_id_field, .names = config__cert_ids,
            .def = CONFIG_CERT_ID_CN),
    TLS_KEY("min_version", ENUM, min_version, .names = config__tls_mins, .def = CONFIG_TLS_1_2),
    TLS_KEY("ciphers", STR, ciphers, .min = 1, .max = 1024, .def_str = CONFIG__TLS_CIPHERS,
            .check = config__check_ciphers),
    { 0 },
};
_Static_assert(sizeof(config__tls_keys) / sizeof(config__tls_keys[0]) <= CONFIG__ROWS_MAX,
               "tls table too long");

static const struct config__object config__tls_object = { .keys = config__tls_keys };

int config__parse_listen_tls(struct config__ctx *ctx, cJSON *item, void *field)
{
    struct config_listen_tls *t = field;
    t->enabled = true;
    int rc = config__defaults(&config__tls_object, (char *)t);
    return rc ? rc : config__walk(ctx, item, &config__tls_object, (char *)t);
}

/* --- reading certificates and keys ---------------------------------------- */

static X509 *config__read_cert(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* An encrypted key would need a passphrase at every start: refused (the
 * callback gives none). */
static int config__no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return 0;
}

static EVP_PKEY *config__read_key(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, config__no_passphrase, NULL);
    fclose(f);
    return k;
}

/* A PEM certificate, its unencrypted private key, and that they belong
 * together. where/cert_key/key_key name the keys in the message. */
static int config__check_pair(struct config__ctx *ctx, const char *where, const char *cert_key,
                              const char *key_key, const char *cert, const char *key)
{
    X509 *x = config__read_cert(cert);
    EVP_PKEY *k = x ? config__read_key(key) : NULL;
    int rc = 0;
    if (!x)
        rc = config__err(ctx, "%s%s: %s holds no PEM certificate", where, cert_key, cert);
    else if (!k)
        rc = config__err(ctx, "%s%s: %s holds no unencrypted PEM private key", where, key_key, key);
    else if (X509_check_private_key(x, k) != 1)
        rc = config__err(ctx, "%s%s: %s is not the key of %s%s", where, key_key, key, where,
                         cert_key);
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return rc;
}

static int config__check_ca(struct config__ctx *ctx, const char *key, const char *path)
{
    X509 *x = config__read_cert(path);
    ERR_clear_error();
    if (!x)
        return config__err(ctx, "%s: %s holds no PEM certificate", key, path);
    X509_free(x);
    return 0;
}

/* --- the check pass -------------------------------------------------------- */

static int config__check_listen_tls(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    const struct config_listen_tls *t = &cfg->listen.tls;
    if (!t->enabled)
        return cfg->listen.plain ? 0 : config__err(ctx, "listen.plain: false needs listen.tls");
    if (cfg->listen.plain && t->port == cfg->listen.port)
        return config__err(ctx, "listen.tls.port: must differ from listen.port (%d)",
                           cfg->listen.port);
    int rc = config__check_pair(ctx, "listen.tls.", "cert_file", "key_file", t->cert_file,
                                t->key_file);
    if (!rc && t->ca_file)
        rc = config__check_ca(ctx, "listen.tls.ca_file", t->ca_file);
    return rc;
}

/* What a profile needs: a password (1, 2), the wss:// listener (2, 3) and a
 * CA for client certificates (3). */
static int config__check_profile(struct config__ctx *ctx, const struct config_charger *ch,
                                 const char *where)
{
    const struct config *cfg = ctx->cfg;
    int p = ch->security_profile;
    bool defaults = ch == &cfg->charger_defaults;
    if ((p == 1 || p == 2) && !defaults && !ch->password_hash)
        return config__err(ctx, "%s.security_profile: %d needs password_hash or password_file",
                           where, p);
    if ((p == 1 || p == 2) && defaults && cfg->listen.allow_unknown_chargers)
        return config__err(ctx, "%s.security_profile: %d needs a password, which unknown "
                                "chargers (listen.allow_unknown_chargers) cannot have", where, p);
    if (p >= 2 && !cfg->listen.tls.enabled)
        return config__err(ctx, "%s.security_profile: %d needs listen.tls", where, p);
    if (p == 3 && !cfg->listen.tls.ca_file)
        return config__err(ctx, "%s.security_profile: 3 needs listen.tls.ca_file", where);
    return 0;
}

static int config__check_upstream_cert(struct config__ctx *ctx, const char *where,
                                       const char *cert_key, const char *key_key,
                                       const char *cert, const char *key)
{
    if (!cert && !key)
        return 0;
    if (!cert)
        return config__err(ctx, "%s%s: needs %s", where, key_key, cert_key);
    if (!key)
        return config__err(ctx, "%s%s: needs %s", where, cert_key, key_key);
    if (strncmp(ctx->cfg->upstream.url, "wss://", 6) != 0)
        return config__err(ctx, "%s%s: only with a wss:// upstream.url", where, cert_key);
    return config__check_pair(ctx, where, cert_key, key_key, cert, key);
}

int config__check_tls(struct config__ctx *ctx)
{
    const struct config *cfg = ctx->cfg;
    int rc = config__check_listen_tls(ctx);
    if (!rc)
        rc = config__check_profile(ctx, &cfg->charger_defaults, "charger_defaults");
    if (!rc)
        rc = config__check_upstream_cert(ctx, "upstream.", "cert_file", "key_file",
                                         cfg->upstream.cert_file, cfg->upstream.key_file);
    char where[32];
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++) {
        const struct config_charger *ch = &cfg->chargers[i];
        snprintf(where, sizeof(where), "chargers[%zu]", i);
        rc = config__check_profile(ctx, ch, where);
        snprintf(where, sizeof(where), "chargers[%zu].", i);
        if (!rc)
            rc = config__check_upstream_cert(ctx, where, "upstream_cert_file", "upstream_key_file",
                                             ch->upstream_cert_file, ch->upstream_key_file);
    }
    return rc;
}

void config__free_tls(struct config *cfg)
{
    struct config_listen_tls *t = &cfg->listen.tls;
    free(t->cert_file);
    free(t->key_file);
    free(t->ca_file);
    free(t->ciphers);
    free(cfg->upstream.cert_file);
    free(cfg->upstream.key_file);
    for (size_t i = 0; i < cfg->n_chargers; i++) {
        free(cfg->chargers[i].upstream_cert_file);
        free(cfg->chargers[i].upstream_key_file);
    }
}
