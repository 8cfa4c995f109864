/* The chargers' side: the WebSocket server (ws:// and wss://).
 *
 * A handshake is refused, with an HTTP status and a log line that says why,
 * when no known subprotocol is offered, the path is not <prefix>/<id>, the id is
 * not configured (unless unknown chargers are allowed), the charger's Basic
 * auth does not match its configured password (OCPP security profiles 1/2), or
 * its security profile asks for TLS (2, 3) or a client certificate naming it
 * (3) that the connection does not have.
 */
#include "session.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "charger_calls.h"
#include "log.h"
#include "password.h"
#include "peer_cert.h"

static struct proxy *charger__proxy(struct lws *wsi)
{
    return lws_get_protocol(wsi)->user;
}

static const char *charger__reason_phrase(unsigned status)
{
    switch (status) {
    case HTTP_STATUS_BAD_REQUEST: return "Bad Request";
    case HTTP_STATUS_UNAUTHORIZED: return "Unauthorized";
    case HTTP_STATUS_FORBIDDEN: return "Forbidden";
    case HTTP_STATUS_NOT_FOUND: return "Not Found";
    default: return "Service Unavailable";
    }
}

/* Answers a request with an HTTP error; returns 1, what lws expects of a
 * refused upgrade. The response is written whole here: lws's header helpers
 * say HTTP/1.0 at this stage, which strict WebSocket clients refuse to read. */
static int charger__refuse(struct lws *wsi, unsigned status, const char *id, const char *why)
{
    struct proxy *p = charger__proxy(wsi);
    p->stats.refused_handshakes++;
    log_warn("proxy", "handshake refused charger=%s status=%u reason=%s", id, status, why);

    char buf[LWS_PRE + 256];
    int n = snprintf(buf + LWS_PRE, sizeof(buf) - LWS_PRE,
                     "HTTP/1.1 %u %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status, charger__reason_phrase(status),
                     status == HTTP_STATUS_UNAUTHORIZED
                         ? "WWW-Authenticate: Basic realm=\"sitegate\"\r\n" : "");
    lws_write(wsi, (unsigned char *)buf + LWS_PRE, (size_t)n, LWS_WRITE_HTTP_HEADERS);
    return 1;
}

/* OCPP identities travel as a path segment: printable, no URL syntax. */
static bool charger__id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > CONFIG_ID_MAX)
        return false;
    for (const char *c = id; *c; c++)
        if (*c <= ' ' || *c > '~' || strchr("/?#%\"\\", *c))
            return false;
    return true;
}

/* "<prefix>/<id>" → id. */
static bool charger__id_from_path(const char *uri, const char *prefix, char *id, size_t cap)
{
    size_t pl = strlen(prefix);
    if (strcmp(prefix, "/") == 0)
        pl = 0;
    if (strncmp(uri, prefix, pl) != 0 || uri[pl] != '/')
        return false;
    const char *rest = uri + pl + 1;
    if (strlen(rest) >= cap)
        return false;
    strcpy(id, rest);
    return charger__id_ok(id);
}

/* Checks "Authorization: Basic base64(<id>:<password>)" against the stored hash. */
static bool charger__basic_auth_ok(struct lws *wsi, const char *id, const char *stored)
{
    char header[512], decoded[384];
    int n = lws_hdr_copy(wsi, header, sizeof(header), WSI_TOKEN_HTTP_AUTHORIZATION);
    bool ok = false;
    if (n > 6 && strncasecmp(header, "Basic ", 6) == 0) {
        const char *b64 = header + 6;
        while (*b64 == ' ')
            b64++;
        int m = lws_b64_decode_string(b64, decoded, (int)sizeof(decoded) - 1);
        if (m > 0) {
            decoded[m] = '\0';
            char *colon = strchr(decoded, ':');
            size_t idlen = colon ? (size_t)(colon - decoded) : 0;
            /* OCPP: the user name is the charger's identity. */
            ok = colon && idlen == strlen(id) && memcmp(decoded, id, idlen) == 0 &&
                 password_verify(colon + 1, (size_t)m - idlen - 1, stored);
        }
    }
    OPENSSL_cleanse(header, sizeof(header));
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return ok;
}

/* Whether the request offers a subprotocol the gateway speaks. */
static bool charger__offers_ocpp(struct lws *wsi)
{
    char list[256];
    if (lws_hdr_copy(wsi, list, sizeof(list), WSI_TOKEN_PROTOCOL) <= 0)
        return false;
    for (char *save = NULL, *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
        enum ocpp_version v;
        if (ocpp_version_from_subprotocol(tok, &v))
            return true;
    }
    return false;
}

/* What the charger's security profile asks of the connection beyond Basic
 * auth: TLS (2, 3), and a verified client certificate whose CN (or serial)
 * is the charger's id (3). 0, or the HTTP status to refuse with and why. */
static unsigned charger__profile_refusal(struct lws *wsi, const struct proxy *p,
                                         const struct config_charger *cfg, const char *id,
                                         const char **why)
{
    if (cfg->security_profile >= 2 && !lws_is_ssl(wsi)) {
        *why = "security profile needs TLS";
        return HTTP_STATUS_FORBIDDEN;
    }
    if (cfg->security_profile < 3)
        return 0;
    char ident[CONFIG_ID_MAX + 2];
    enum config_cert_id field = p->cfg->listen.tls.client_id_field;
    int rc = peer_cert_identity(wsi, field, ident, sizeof(ident));
    if (rc == -ENOENT)
        *why = "no client certificate";
    else if (rc == -EPERM)
        *why = "client certificate not verified";
    else if (rc < 0)
        *why = field == CONFIG_CERT_ID_SERIAL ? "client certificate serial unusable"
                                              : "client certificate has no single CN";
    else if (field == CONFIG_CERT_ID_SERIAL ? strcasecmp(ident, id) != 0 : strcmp(ident, id) != 0)
        *why = field == CONFIG_CERT_ID_SERIAL ? "client certificate serial is not the charger id"
                                              : "client certificate CN is not the charger id";
    else
        return 0;
    return HTTP_STATUS_FORBIDDEN;
}

/* Every WebSocket upgrade passes here first, with its headers, before lws
 * matches a subprotocol (and silently drops those it does not know), and
 * before any per-socket data exists. */
static int charger__confirm_upgrade(struct lws *wsi)
{
    struct proxy *p = charger__proxy(wsi);
    char uri[256], id[CONFIG_ID_MAX + 1];
    const char *who = "-";

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0)
        return charger__refuse(wsi, HTTP_STATUS_BAD_REQUEST, who, "no path");
    if (!charger__id_from_path(uri, p->cfg->listen.path, id, sizeof(id)))
        return charger__refuse(wsi, HTTP_STATUS_NOT_FOUND, who, "path is not <prefix>/<charger id>");
    who = id;
    if (p->draining)
        return charger__refuse(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE, who, "shutting down");
    if (lws_hdr_total_length(wsi, WSI_TOKEN_PROTOCOL) <= 0)
        return charger__refuse(wsi, HTTP_STATUS_BAD_REQUEST, who, "no OCPP subprotocol offered");
    if (!charger__offers_ocpp(wsi))
        return charger__refuse(wsi, HTTP_STATUS_BAD_REQUEST, who,
                               "no supported subprotocol offered (ocpp1.6, ocpp2.0.1)");

    const struct config_charger *cfg = config_find_charger(p->cfg, id);
    if (!cfg && !p->cfg->listen.allow_unknown_chargers)
        return charger__refuse(wsi, HTTP_STATUS_NOT_FOUND, who, "unknown charger");
    if (cfg && cfg->password_hash) {
        if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_AUTHORIZATION) <= 0)
            return charger__refuse(wsi, HTTP_STATUS_UNAUTHORIZED, who, "no Basic auth");
        if (!charger__basic_auth_ok(wsi, id, cfg->password_hash))
            return charger__refuse(wsi, HTTP_STATUS_UNAUTHORIZED, who, "wrong Basic auth");
    }
    const char *why;
    unsigned status = charger__profile_refusal(wsi, p, cfg ? cfg : &p->cfg->charger_defaults, id,
                                               &why);
    if (status)
        return charger__refuse(wsi, status, who, why);
    return 0;
}

/* The upgrade was confirmed; the socket is now bound to an OCPP subprotocol,
 * with per-socket data of its own: note whose socket it is. */
static int charger__bind(struct lws *wsi, struct charger_conn *c)
{
    char uri[256];
    if (strcmp(lws_get_protocol(wsi)->name, PROXY_PROTO_HTTP) == 0 ||
        lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
        !charger__id_from_path(uri, charger__proxy(wsi)->cfg->listen.path, c->id, sizeof(c->id)))
        return -1; /* refused at confirmation already; never reached */
    return 0;
}

static void charger__established(struct lws *wsi, struct charger_conn *c)
{
    struct proxy *p = charger__proxy(wsi);
    const struct config_charger *cfg = config_find_charger(p->cfg, c->id);
    enum ocpp_version version = OCPP_16;
    ocpp_version_from_subprotocol(lws_get_protocol(wsi)->name, &version);

    proxy__link_init(p, &c->link, true);
    link_attach(&c->link, wsi);
    charger_limits_established(p, wsi, c);

    struct session *s = proxy__find(p, c->id);
    if (!s)
        s = proxy__session_new(p, c->id, cfg ? cfg : &p->cfg->charger_defaults);
    if (!s) {
        log_error("proxy", "out of memory charger=%s", c->id);
        link_close(&c->link, LINK_CLOSE_GOING_AWAY, false);
        return;
    }
    if (s->down) {
        /* The charger came back before its old socket was seen to die. */
        log_info("proxy", "charger reconnected, replacing its old socket charger=%s", s->id);
        s->down->s = NULL;
        link_close(&s->down->link, LINK_CLOSE_NORMAL, false);
        s->down = NULL;
        p->stats.chargers_connected--;
    }
    /* CALLs of the old socket are answered to no one now, and those still
     * queued for it were made for it (perhaps in its OCPP version): the
     * gateway makes its own again for the new socket. With no socket set,
     * their callbacks know the answer is not the charger's. */
    p->stats.expired_calls += pending_abandon(&s->to_charger) + pending_abandon(&s->to_csms);
    charger_calls_drop(s);
    c->s = s;
    c->serial = ++p->next_conn_serial;
    s->down = c;
    p->stats.chargers_connected++;
    smart_reset(s);

    bool version_changed = s->version != version;
    s->version = version;
    log_info("proxy", "charger connected charger=%s ocpp=%s", s->id,
             ocpp_version_subprotocol(version));
    if (p->observer.charger_link)
        p->observer.charger_link(p->observer.ctx, s->id, true);
    if (p->agg)
        aggregate_charger_link(s, true);
    if (version_changed && (s->up_state == UPSTREAM_OPEN || s->up_state == UPSTREAM_CONNECTING))
        csms_side_close(s, LINK_CLOSE_NORMAL); /* reopened with the new subprotocol */
    else if (s->up_state == UPSTREAM_IDLE)
        csms_side_connect(s);
    charger_calls_pump(s);
}

static void charger__closed(struct charger_conn *c)
{
    struct session *s = c->s;
    uint16_t code = c->peer_close_code ? c->peer_close_code : LINK_CLOSE_GOING_AWAY;
    link_reset(&c->link);
    if (!s || s->down != c)
        return; /* refused, or replaced by a newer socket */
    struct proxy *p = s->proxy;
    s->down = NULL;
    p->stats.chargers_connected--;
    log_info("proxy", "charger disconnected charger=%s code=%u", s->id, code);
    if (p->observer.charger_link)
        p->observer.charger_link(p->observer.ctx, s->id, false);
    if (p->agg)
        aggregate_charger_link(s, false);
    p->stats.expired_calls += pending_abandon(&s->to_charger);
    charger_calls_drop(s);
    /* Passthrough: the CSMS sees the charger go when it goes, unless it has
     * yet to receive the charger's backlog (then when that is replayed). */
    if (s->offline.backlog)
        log_info("proxy", "upstream kept for the backlog charger=%s", s->id);
    else
        csms_side_close(s, code);
    proxy__session_release(s);
}

static void charger__receive(struct lws *wsi, struct charger_conn *c, const void *in, size_t len)
{
    struct session *s = c->s;
    if (!s || link_closing(&c->link))
        return;
    const char *msg;
    size_t msg_len;
    size_t max = s->proxy->cfg->limits.max_frame_bytes;
    int rc = link_on_receive(&c->link, in, len, max, &msg, &msg_len);
    if (rc < 0) {
        s->proxy->stats.oversized_frames++;
        log_warn("proxy", "frame too big, closing charger=%s max=%zu", s->id, max);
        link_close(&c->link, LINK_CLOSE_TOO_BIG, false);
    } else if (rc == 1 && charger_limits_frame(s, c, msg, msg_len)) {
        relay_from_charger(s, msg, msg_len);
    }
}

int charger_side_callback(struct lws *wsi, enum lws_callback_reasons reason,
                          void *user, void *in, size_t len)
{
    struct charger_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        return charger_limits_admit(charger__proxy(wsi), wsi);
    case LWS_CALLBACK_WSI_DESTROY:
        /* lws tells protocol 0 of every socket it frees, the CSMS side's too. */
        if (lws_get_protocol(wsi) && strcmp(lws_get_protocol(wsi)->name, PROXY_PROTO_CSMS) == 0)
            return csms_side_callback(wsi, reason, user, in, len);
        charger_limits_release(wsi);
        return 0;
    case LWS_CALLBACK_OPENSSL_PERFORM_CLIENT_CERT_VERIFICATION:
        /* lws takes 0 as "verified" whatever OpenSSL found (len): pass
         * OpenSSL's verdict on, so that a wrong CA or an expired
         * certificate fails the TLS handshake. */
        return len ? 0 : 1;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return charger__confirm_upgrade(wsi);
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return charger__bind(wsi, c);
    case LWS_CALLBACK_HTTP:
        /* Only WebSocket upgrades are served on this listener. */
        charger__refuse(wsi, HTTP_STATUS_NOT_FOUND, "-", "plain HTTP request");
        return -1;
    case LWS_CALLBACK_ESTABLISHED:
        charger__established(wsi, c);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        charger__receive(wsi, c, in, len);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return c->link.wsi ? link_on_writeable(&c->link) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2)
            c->peer_close_code = (uint16_t)(((const uint8_t *)in)[0] << 8 | ((const uint8_t *)in)[1]);
        return link_closing(&c->link) ? -1 : 0;
    case LWS_CALLBACK_CLOSED:
        if (c && c->link.overflowed) {
            struct proxy *p = charger__proxy(wsi);
            p->stats.slow_readers++;
            log_warn("proxy", "closed a charger that does not read charger=%s max_queued_bytes=%zu",
                     c->id, p->cfg->limits.max_queued_bytes);
        }
        if (c)
            charger__closed(c);
        return 0;
    default:
        return 0;
    }
}
