#include "password.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define PASSWORD__PREFIX "pbkdf2-sha256$"

/* 10,000 iterations, not the 600,000 OWASP suggests for user passwords: the
 * check runs on the event loop thread, which every charger's socket shares, and
 * chargers reconnect in bursts (after a site power cut, a hundred of them at
 * once). At ~3 ms per check that burst stalls the loop for a third of a second;
 * sixty times more would stall it for twenty. Charger passwords are machine
 * secrets (OCPP's security whitepaper asks for 16 to 40 random characters), so
 * a slow hash buys little against offline guessing anyway: the salt is what
 * matters, and it keeps one leaked config from revealing equal passwords. */
#define PASSWORD__ITERATIONS 10000

/* What password_hash_valid accepts: fewer than 1,000 iterations is no hash,
 * more than 1,000,000 would let one config line stall the loop for a second
 * on every connection. */
#define PASSWORD__ITER_MIN 1000
#define PASSWORD__ITER_MAX 1000000

#define PASSWORD__SALT_LEN 16
#define PASSWORD__SALT_MIN 8
#define PASSWORD__SALT_MAX 64
#define PASSWORD__HASH_LEN 32

/* One parsed stored hash. */
struct password__parsed {
    int iterations;
    unsigned char salt[PASSWORD__SALT_MAX];
    size_t salt_len;
    unsigned char hash[PASSWORD__HASH_LEN];
};

static bool password__b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* Decodes exactly len characters of padded standard base64 into out (at most
 * cap bytes). Returns the decoded length, or -1 for anything else: EVP's decoder
 * alone skips whitespace and reports padding as data, so check the text first. */
static int password__b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
    if (len == 0 || len % 4 != 0 || len / 4 * 3 > cap + 2)
        return -1;
    size_t pad = 0;
    if (in[len - 1] == '=')
        pad = in[len - 2] == '=' ? 2 : 1;
    for (size_t i = 0; i < len - pad; i++) {
        if (!password__b64_char(in[i]))
            return -1;
    }
    unsigned char tmp[(PASSWORD__SALT_MAX + 2) / 3 * 3];
    if (len / 4 * 3 > sizeof(tmp))
        return -1;
    int n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0 || (size_t)n < pad || (size_t)n - pad > cap)
        return -1;
    size_t got = (size_t)n - pad;
    memcpy(out, tmp, got);
    OPENSSL_cleanse(tmp, sizeof(tmp));
    return (int)got;
}

static bool password__parse(const char *stored, struct password__parsed *p)
{
    if (!stored || strnlen(stored, PASSWORD_HASH_STORED_MAX + 1) > PASSWORD_HASH_STORED_MAX)
        return false;
    size_t plen = strlen(PASSWORD__PREFIX);
    if (strncmp(stored, PASSWORD__PREFIX, plen) != 0)
        return false;
    const char *s = stored + plen;

    /* Iterations: plain decimal digits, no sign, no leading zero. */
    long iter = 0;
    const char *d = s;
    while (*s >= '0' && *s <= '9' && s - d < 8)
        iter = iter * 10 + (*s++ - '0');
    if (s == d || *d == '0' || *s != '$' || iter < PASSWORD__ITER_MIN || iter > PASSWORD__ITER_MAX)
        return false;
    p->iterations = (int)iter;
    s++;

    const char *dollar = strchr(s, '$');
    if (!dollar)
        return false;
    int n = password__b64_decode(s, (size_t)(dollar - s), p->salt, sizeof(p->salt));
    if (n < PASSWORD__SALT_MIN)
        return false;
    p->salt_len = (size_t)n;

    s = dollar + 1;
    n = password__b64_decode(s, strlen(s), p->hash, sizeof(p->hash));
    return n == PASSWORD__HASH_LEN;
}

int password_hash_new(const char *password, char *out, size_t outlen)
{
    if (!password || !*password || !out)
        return -EINVAL;
    size_t len = strlen(password);
    if (len > INT_MAX)
        return -EINVAL;

    unsigned char salt[PASSWORD__SALT_LEN];
    unsigned char hash[PASSWORD__HASH_LEN];
    if (RAND_bytes(salt, sizeof(salt)) != 1)
        return -EIO;
    if (PKCS5_PBKDF2_HMAC(password, (int)len, salt, sizeof(salt), PASSWORD__ITERATIONS,
                          EVP_sha256(), sizeof(hash), hash) != 1) {
        OPENSSL_cleanse(hash, sizeof(hash));
        return -EIO;
    }

    /* EVP_EncodeBlock writes 4 characters per 3 bytes, padded, then a NUL. */
    char salt64[(PASSWORD__SALT_LEN + 2) / 3 * 4 + 1];
    char hash64[(PASSWORD__HASH_LEN + 2) / 3 * 4 + 1];
    EVP_EncodeBlock((unsigned char *)salt64, salt, sizeof(salt));
    EVP_EncodeBlock((unsigned char *)hash64, hash, sizeof(hash));
    OPENSSL_cleanse(hash, sizeof(hash));

    int n = snprintf(out, outlen, PASSWORD__PREFIX "%d$%s$%s", PASSWORD__ITERATIONS, salt64,
                     hash64);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen)
            out[0] = '\0';
        return -ENOSPC;
    }
    return 0;
}

bool password_hash_valid(const char *stored)
{
    struct password__parsed p;
    return password__parse(stored, &p);
}

bool password_verify(const char *password, size_t len, const char *stored)
{
    struct password__parsed p;
    if (!password || len > INT_MAX || !password__parse(stored, &p))
        return false;
    unsigned char got[PASSWORD__HASH_LEN];
    bool ok = PKCS5_PBKDF2_HMAC(password, (int)len, p.salt, (int)p.salt_len, p.iterations,
                                EVP_sha256(), sizeof(got), got) == 1 &&
              CRYPTO_memcmp(got, p.hash, sizeof(got)) == 0;
    OPENSSL_cleanse(got, sizeof(got));
    return ok;
}
