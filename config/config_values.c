/* Value checks and parsers the key tables name: the rules for one value that a
 * type and bounds cannot say (identifiers, URLs, times, secrets). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config_int.h"
#include "password.h"

#define CONFIG__ZONEINFO "/usr/share/zoneinfo"

static bool config__alnum(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool config__only(const char *s, const char *extra)
{
    for (; *s; s++) {
        if (!config__alnum(*s) && !strchr(extra, *s))
            return false;
    }
    return true;
}

/* Both ids end up as a URL path segment (<path>/<charger id> from chargers,
 * <url>/<id> upstream), where "." and ".." mean something else. */
static int config__check_id(struct config__ctx *ctx, const char *s, const char *extra)
{
    if (!config__only(s, extra))
        return config__fail(ctx, "may only contain letters, digits and %s", extra);
    if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return config__fail(ctx, "must not be \".\" or \"..\"");
    return 0;
}

int config__check_site_id(struct config__ctx *ctx, char *s)
{
    return config__check_id(ctx, s, "._-");
}

int config__check_charger_id(struct config__ctx *ctx, char *s)
{
    return config__check_id(ctx, s, "._:-");
}

int config__check_timezone(struct config__ctx *ctx, char *s)
{
    /* With no "." allowed there is no "..": the name cannot leave zoneinfo. */
    if (!config__only(s, "/_+-") || s[0] == '/' || s[strlen(s) - 1] == '/' || strstr(s, "//"))
        return config__fail(ctx, "must be an IANA time zone name like \"Asia/Kolkata\"");
    struct stat st;
    if (stat(CONFIG__ZONEINFO, &st) == 0 && S_ISDIR(st.st_mode)) {
        char file[sizeof(CONFIG__ZONEINFO) + 70];
        snprintf(file, sizeof(file), CONFIG__ZONEINFO "/%s", s);
        if (stat(file, &st) != 0 || !S_ISREG(st.st_mode))
            return config__fail(ctx, "unknown time zone \"%s\" (not in " CONFIG__ZONEINFO ")", s);
    }
    return 0;
}

/* RFC 1123 host name: dot-separated labels of letters, digits and inner
 * hyphens; a last label of digits only is a mistyped IPv4 address. */
static bool config__hostname(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 253)
        return false;
    const char *label = s;
    bool digits_only = true;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
                return false;
            if (*p == '\0')
                return !digits_only;
            label = p + 1;
            digits_only = true;
        } else if (config__alnum(*p) || *p == '-') {
            if (!(*p >= '0' && *p <= '9'))
                digits_only = false;
        } else {
            return false;
        }
    }
}

static bool config__ip_literal(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int config__check_address(struct config__ctx *ctx, char *s)
{
    if (!config__ip_literal(s) && !config__hostname(s))
        return config__fail(ctx, "must be an IP address or a host name");
    return 0;
}

/* Stored without its trailing "/", so that "<path>/<id>" is always right; "/"
 * alone becomes "" (chargers connect to /<id>). */
int config__check_path(struct config__ctx *ctx, char *s)
{
    if (s[0] != '/')
        return config__fail(ctx, "must start with /");
    if (strchr(s, ' '))
        return config__fail(ctx, "must not contain spaces");
    if (!config__only(s, "/._~-"))
        return config__fail(ctx, "may only contain letters, digits and /._~-");
    size_t len = strlen(s);
    if (s[len - 1] == '/')
        s[--len] = '\0';
    if ((len && s[len - 1] == '/') || strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") ||
        (len >= 2 && strcmp(s + len - 2, "/.") == 0) ||
        (len >= 3 && strcmp(s + len - 3, "/..") == 0))
        return config__fail(ctx, "must not contain empty, \".\" or \"..\" segments");
    return 0;
}

/* ws[s]://host[:port][/path]: the charger id (or the site id) is appended to
 * it, so no trailing "/", query or fragment. Credentials go in the chargers'
 * upstream_password, never in a URL that ends up in logs. */
int config__check_url(struct config__ctx *ctx, char *s)
{
    const char *host;
    if (strncmp(s, "ws://", 5) == 0)
        host = s + 5;
    else if (strncmp(s, "wss://", 6) == 0)
        host = s + 6;
    else
        return config__fail(ctx, "must start with ws:// or wss://");
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return config__fail(ctx, "must not contain spaces or control characters");
    }
    if (strpbrk(s, "?#"))
        return config__fail(ctx, "must not have a query or fragment");
    if (strchr(host, '@'))
        return config__fail(ctx, "must not contain credentials (use chargers[].upstream_password)");
    size_t alen = strcspn(host, "/");
    char auth[300];
    if (alen == 0 || alen >= sizeof(auth))
        return config__fail(ctx, "must have a host");
    if (s[strlen(s) - 1] == '/')
        return config__fail(ctx, "must not end with /");
    memcpy(auth, host, alen);
    auth[alen] = '\0';

    char *port = NULL;
    if (auth[0] == '[') {
        char *close = strchr(auth, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return config__fail(ctx, "has a malformed IPv6 address");
        *close = '\0';
        unsigned char buf[16];
        if (inet_pton(AF_INET6, auth + 1, buf) != 1)
            return config__fail(ctx, "has a malformed IPv6 address");
        if (close[1] == ':')
            port = close + 2;
    } else {
        port = strchr(auth, ':');
        if (port)
            *port++ = '\0';
        if (auth[0] == '\0')
            return config__fail(ctx, "must have a host");
        if (!config__ip_literal(auth) && !config__hostname(auth))
            return config__fail(ctx, "has a malformed host name");
    }
    if (port) {
        long v = 0;
        const char *p = port;
        while (*p >= '0' && *p <= '9' && v <= 65535)
            v = v * 10 + (*p++ - '0');
        if (p == port || *p != '\0' || v < 1 || v > 65535)
            return config__fail(ctx, "port must be between 1 and 65535");
    }
    if (strstr(host + alen, "//"))
        return config__fail(ctx, "must not contain an empty path segment");
    return 0;
}

/* Opens without blocking so that a FIFO (or /dev/stdin) named by mistake
 * fails at once instead of hanging the load; only regular files pass. */
static int config__open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    return fd;
}

static int config__cannot_read(struct config__ctx *ctx, const char *path, int rc)
{
    return config__fail(ctx, "cannot read %s: %s", path,
                        rc == -EINVAL ? "not a regular file" : strerror(-rc));
}

int config__check_readable(struct config__ctx *ctx, char *s)
{
    int fd = config__open_regular(s);
    if (fd < 0)
        return config__cannot_read(ctx, s, fd);
    close(fd);
    return 0;
}

/* --- times --------------------------------------------------------------- */

int config__parse_time(struct config__ctx *ctx, cJSON *item, void *field)
{
    const char *s = cJSON_IsString(item) ? item->valuestring : NULL;
    bool ok = s && strlen(s) == 5 && s[2] == ':';
    for (int i = 0; ok && i < 5; i++) {
        if (i != 2 && !(s[i] >= '0' && s[i] <= '9'))
            ok = false;
    }
    int h = ok ? (s[0] - '0') * 10 + (s[1] - '0') : 0;
    int m = ok ? (s[3] - '0') * 10 + (s[4] - '0') : 0;
    if (!ok || h > 23 || m > 59)
        return config__fail(ctx, "must be a time \"HH:MM\" from 00:00 to 23:59");
    *(int *)field = h * 60 + m;
    return 0;
}

/* --- secrets ------------------------------------------------------------- */
/* No error below shows a secret, only the key and, for files, the file name. */

static int config__path_string(struct config__ctx *ctx, const cJSON *item, const char **out)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    size_t len = strlen(item->valuestring);
    if (len < 1 || len > CONFIG__PATHNAME_MAX)
        return config__fail(ctx, "must be 1 to %d characters", CONFIG__PATHNAME_MAX);
    *out = item->valuestring;
    return 0;
}

/* Reads a whole secret file into buf (NUL-terminated), minus one trailing
 * newline, which editors and `echo` add and nobody means as part of a password. */
int config__read_secret(struct config__ctx *ctx, const cJSON *item, char *buf, size_t cap)
{
    const char *path = NULL;
    int rc = config__path_string(ctx, item, &path);
    if (rc)
        return rc;
    int fd = config__open_regular(path);
    if (fd < 0)
        return config__cannot_read(ctx, path, fd);
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    if (rc == -EFBIG)
        rc = config__fail(ctx, "%s: larger than %zu bytes", path, cap - 1);
    else if (rc)
        rc = config__cannot_read(ctx, path, rc);
    else if (memchr(buf, '\0', len))
        rc = config__fail(ctx, "%s: contains a NUL byte", path);
    if (rc) {
        OPENSSL_cleanse(buf, cap);
        return rc;
    }
    if (len && buf[len - 1] == '\n')
        len--;
    if (len && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if (len == 0)
        return config__fail(ctx, "%s: holds no password", path);
    return 0;
}

static int config__set_secret(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    if (*field) {
        OPENSSL_cleanse(*field, strlen(*field));
        free(*field);
    }
    *field = copy;
    return 0;
}

int config__parse_password_hash(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    if (!password_hash_valid(item->valuestring))
        return config__fail(ctx, "not a valid password hash (make one with sitegate "
                                 "--hash-password)");
    return config__set_secret(field, item->valuestring);
}

int config__parse_password_file(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (*(char **)field)
        return config__fail(ctx, "cannot be used together with password_hash");
    char plain[CONFIG__SECRET_FILE_MAX + 1];
    int rc = config__read_secret(ctx, item, plain, sizeof(plain));
    if (rc)
        return rc;
    char hash[PASSWORD_HASH_MAX];
    rc = password_hash_new(plain, hash, sizeof(hash));
    OPENSSL_cleanse(plain, sizeof(plain));
    if (rc)
        return config__fail(ctx, "cannot hash the password: %s", strerror(-rc));
    return config__set_secret(field, hash);
}

static int config__upstream_len(struct config__ctx *ctx, size_t len, const char *what)
{
    if (len < 1 || len > CONFIG__UPSTREAM_PW_MAX)
        return config__fail(ctx, "%smust be 1 to %d characters", what, CONFIG__UPSTREAM_PW_MAX);
    return 0;
}

int config__parse_upstream_password(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (!cJSON_IsString(item) || !item->valuestring)
        return config__fail(ctx, "must be a string");
    int rc = config__upstream_len(ctx, strlen(item->valuestring), "");
    return rc ? rc : config__set_secret(field, item->valuestring);
}

int config__parse_upstream_password_file(struct config__ctx *ctx, cJSON *item, void *field)
{
    if (*(char **)field)
        return config__fail(ctx, "cannot be used together with upstream_password");
    char plain[CONFIG__SECRET_FILE_MAX + 1];
    int rc = config__read_secret(ctx, item, plain, sizeof(plain));
    if (!rc)
        rc = config__upstream_len(ctx, strlen(plain), "the password in the file ");
    if (!rc)
        rc = config__set_secret(field, plain);
    OPENSSL_cleanse(plain, sizeof(plain));
    return rc;
}
