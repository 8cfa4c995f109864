/* The proxy's lws vhosts: the chargers' listeners (ws:// and wss://) and the
 * client vhosts its CSMS sockets go out on. lws 4.1 takes a client
 * certificate per vhost, not per connection: one client vhost per distinct
 * certificate and key (the first is upstream.cert_file's, or none). */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "log.h"

/* TLS 1.2 at least, both ways; no renegotiation (a cheap way for a client to
 * make the server compute). */
#define PROXY__TLS_OFF (SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION)

static void proxy__listen_info(struct proxy *p, struct lws_context_creation_info *info,
                               const char *name, int port)
{
    const char *addr = p->cfg->listen.address;
    memset(info, 0, sizeof(*info));
    info->vhost_name = name;
    info->iface = (strcmp(addr, "0.0.0.0") == 0 || strcmp(addr, "::") == 0) ? NULL : addr;
    info->port = port;
    info->protocols = p->protocols;
    info->retry_and_idle_policy = &p->down_policy;
    info->user = p;
    info->options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
}

static int proxy__listen_tls(struct proxy *p)
{
    const struct config_listen_tls *t = &p->cfg->listen.tls;
    struct lws_context_creation_info info;
    proxy__listen_info(p, &info, "ocpp-tls", t->port);
    info.ssl_cert_filepath = t->cert_file;
    info.ssl_private_key_filepath = t->key_file;
    info.ssl_cipher_list = t->ciphers;
    info.ssl_options_set = PROXY__TLS_OFF | (t->min_version == CONFIG_TLS_1_3 ? SSL_OP_NO_TLSv1_2 : 0);
    if (t->ca_file) {
        /* Ask every client for a certificate and verify what it sends; the
         * profile of the charger decides at the upgrade whether it needed one. */
        info.ssl_ca_filepath = t->ca_file;
        info.options |= LWS_SERVER_OPTION_REQUIRE_VALID_OPENSSL_CLIENT_CERT |
                        LWS_SERVER_OPTION_PEER_CERT_NOT_REQUIRED;
    }
    p->tls_vhost = lws_create_vhost(p->ctx, &info);
    if (!p->tls_vhost) {
        log_error("proxy", "cannot listen with TLS address=%s port=%d cert=%s",
                  p->cfg->listen.address, t->port, t->cert_file);
        return -EADDRINUSE;
    }
    return 0;
}

static struct lws_vhost *proxy__client_vhost(struct proxy *p, const char *cert, const char *key)
{
    char name[32];
    snprintf(name, sizeof(name), "csms-%zu", p->n_up_vhosts);
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.vhost_name = name;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = p->protocols;
    info.user = p;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = p->cfg->upstream.ca_file;
    info.client_ssl_cert_filepath = cert;
    info.client_ssl_private_key_filepath = key;
    info.ssl_client_options_set = PROXY__TLS_OFF;
    struct lws_vhost *vh = lws_create_vhost(p->ctx, &info);
    if (!vh)
        log_error("proxy", "cannot set up the CSMS client cert=%s", cert ? cert : "-");
    return vh;
}

static int proxy__add_client(struct proxy *p, const char *cert, const char *key)
{
    for (size_t i = 0; i < p->n_up_vhosts; i++) {
        const struct proxy_client_vhost *v = &p->up_vhosts[i];
        if (cert && v->cert && strcmp(v->cert, cert) == 0 && strcmp(v->key, key) == 0)
            return 0;
    }
    struct lws_vhost *vh = proxy__client_vhost(p, cert, key);
    if (!vh)
        return -EINVAL;
    p->up_vhosts[p->n_up_vhosts++] = (struct proxy_client_vhost){ cert, key, vh };
    return 0;
}

static int proxy__clients(struct proxy *p)
{
    const struct config *cfg = p->cfg;
    p->up_vhosts = calloc(cfg->n_chargers + 1, sizeof(*p->up_vhosts));
    if (!p->up_vhosts)
        return -ENOMEM;
    int rc = proxy__add_client(p, cfg->upstream.cert_file, cfg->upstream.key_file);
    for (size_t i = 0; !rc && i < cfg->n_chargers; i++) {
        const struct config_charger *ch = &cfg->chargers[i];
        if (ch->upstream_cert_file)
            rc = proxy__add_client(p, ch->upstream_cert_file, ch->upstream_key_file);
    }
    if (!cfg->upstream.tls_verify)
        log_warn("proxy", "upstream.tls_verify is off: the CSMS's certificate and host name are "
                          "not checked url=%s", cfg->upstream.url);
    return rc;
}

int proxy__vhosts_create(struct proxy *p)
{
    const struct config *cfg = p->cfg;
    struct lws_context_creation_info info;
    if (cfg->listen.plain) {
        proxy__listen_info(p, &info, "ocpp", cfg->listen.port);
        p->vhost = lws_create_vhost(p->ctx, &info);
        if (!p->vhost) {
            log_error("proxy", "cannot listen address=%s port=%d", cfg->listen.address,
                      cfg->listen.port);
            return -EADDRINUSE;
        }
    }
    int rc = cfg->listen.tls.enabled ? proxy__listen_tls(p) : 0;
    return rc ? rc : proxy__clients(p);
}

struct lws_vhost *proxy__upstream_vhost(const struct proxy *p, const struct config_charger *cfg)
{
    const char *cert = cfg->upstream_cert_file;
    for (size_t i = 1; cert && i < p->n_up_vhosts; i++) {
        const struct proxy_client_vhost *v = &p->up_vhosts[i];
        if (strcmp(v->cert, cert) == 0 && strcmp(v->key, cfg->upstream_key_file) == 0)
            return v->vh;
    }
    return p->up_vhosts[0].vh;
}

void proxy__vhosts_free(struct proxy *p)
{
    free(p->up_vhosts);
    p->up_vhosts = NULL;
    p->n_up_vhosts = 0;
}
