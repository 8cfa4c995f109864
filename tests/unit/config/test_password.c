/* password.c: hashes made here verify, wrong passwords and malformed stored
 * strings do not, and the stored form matches an independent PBKDF2 (Python's
 * hashlib made the known answers below). */
#include <errno.h>
#include <string.h>

#include "password.h"
#include "test.h"

/* hashlib.pbkdf2_hmac('sha256', b'correct horse battery staple',
 *                     b'sitegate-kat-sal', 1000, 32) */
static const char KAT_1000[] =
    "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=";
/* hashlib.pbkdf2_hmac('sha256', b'CP01-secret-0123456789', bytes(range(64)), 10000, 32):
 * a 64-byte salt, the longest accepted. */
static const char KAT_SALT64[] =
    "pbkdf2-sha256$10000$AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMz"
    "Q1Njc4OTo7PD0+Pw==$8OeNh83dkKoICvMZivdpxm+Jy5iEvTBEbQshYvd4eBg=";

static bool verify(const char *pw, const char *stored)
{
    return password_verify(pw, strlen(pw), stored);
}

TEST(new_then_verify)
{
    char h[PASSWORD_HASH_MAX];
    ASSERT_EQ(password_hash_new("s3cret-charger-pw", h, sizeof(h)), 0);
    ASSERT(password_hash_valid(h));
    ASSERT(verify("s3cret-charger-pw", h));
    ASSERT(!verify("s3cret-charger-pW", h));
    ASSERT(!verify("s3cret-charger-p", h));
    ASSERT(!verify("s3cret-charger-pw ", h));
    ASSERT(!verify("", h));
    /* len counts, not the NUL: a password cut at an embedded NUL is another one. */
    ASSERT(!password_verify("s3cret-charger-pw\0x", 19, h));
    ASSERT(password_verify("s3cret-charger-pwXYZ", 17, h));
}

TEST(stored_form)
{
    char h[PASSWORD_HASH_MAX];
    ASSERT_EQ(password_hash_new("pw", h, sizeof(h)), 0);
    const char *prefix = "pbkdf2-sha256$10000$";
    ASSERT_EQ(strncmp(h, prefix, strlen(prefix)), 0);
    const char *salt = h + strlen(prefix);
    const char *dollar = strchr(salt, '$');
    ASSERT_NOT_NULL(dollar);
    ASSERT_EQ(dollar - salt, 24);        /* 16 bytes */
    ASSERT_EQ(strlen(dollar + 1), 44);   /* 32 bytes */
    ASSERT_NULL(strchr(dollar + 1, '$'));
}

TEST(salted)
{
    char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
    ASSERT_EQ(password_hash_new("same", a, sizeof(a)), 0);
    ASSERT_EQ(password_hash_new("same", b, sizeof(b)), 0);
    ASSERT(strcmp(a, b) != 0);
    ASSERT(verify("same", a));
    ASSERT(verify("same", b));
}

TEST(known_answers)
{
    ASSERT(password_hash_valid(KAT_1000));
    ASSERT(verify("correct horse battery staple", KAT_1000));
    ASSERT(!verify("correct horse battery stapl", KAT_1000));
    ASSERT(password_hash_valid(KAT_SALT64));
    ASSERT(verify("CP01-secret-0123456789", KAT_SALT64));
    ASSERT(!verify("CP02-secret-0123456789", KAT_SALT64));

    /* The whole hash is compared: a stored hash wrong only in its first or its
     * last byte must fail for the right password. */
    char tampered[sizeof(KAT_1000)];
    size_t h = strlen(KAT_1000) - 44;
    memcpy(tampered, KAT_1000, sizeof(tampered));
    tampered[h] = tampered[h] == 'A' ? 'B' : 'A';
    ASSERT(password_hash_valid(tampered));
    ASSERT(!verify("correct horse battery staple", tampered));
    memcpy(tampered, KAT_1000, sizeof(tampered));
    tampered[sizeof(tampered) - 4] = tampered[sizeof(tampered) - 4] == 'c' ? 'd' : 'c';
    ASSERT(password_hash_valid(tampered));
    ASSERT(!verify("correct horse battery staple", tampered));
    /* ...and the salt and the iteration count take part. */
    memcpy(tampered, KAT_1000, sizeof(tampered));
    tampered[20] = tampered[20] == 'A' ? 'B' : 'A';
    ASSERT(password_hash_valid(tampered));
    ASSERT(!verify("correct horse battery staple", tampered));
    char more_iter[sizeof(KAT_1000) + 1];
    snprintf(more_iter, sizeof(more_iter), "pbkdf2-sha256$1001%s", KAT_1000 + 18);
    ASSERT(password_hash_valid(more_iter));
    ASSERT(!verify("correct horse battery staple", more_iter));
}

TEST(new_errors)
{
    char h[PASSWORD_HASH_MAX];
    ASSERT_EQ(password_hash_new("", h, sizeof(h)), -EINVAL);
    ASSERT_EQ(password_hash_new(NULL, h, sizeof(h)), -EINVAL);
    char small[40] = "x";
    ASSERT_EQ(password_hash_new("pw", small, sizeof(small)), -ENOSPC);
    ASSERT_STR_EQ(small, "");
    /* Exactly the room needed: 14 + 5 + 1 + 24 + 1 + 44 characters and the NUL. */
    char exact[90];
    ASSERT_EQ(password_hash_new("pw", exact, sizeof(exact)), 0);
    ASSERT(verify("pw", exact));
    char one_short[89];
    ASSERT_EQ(password_hash_new("pw", one_short, sizeof(one_short)), -ENOSPC);
}

TEST(malformed)
{
    static const char *const bad[] = {
        "",
        "pbkdf2-sha256$",
        "pbkdf2-sha256$10000$",
        "pbkdf2-sha256$10000$c2l0ZWdhdGUta2F0LXNhbA==$",
        "pbkdf2-sha256$10000$c2l0ZWdhdGUta2F0LXNhbA==",
        "pbkdf2-sha1$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "PBKDF2-SHA256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        " pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        /* iterations: zero, below 1000, above 1,000,000, leading zero, sign, not digits */
        "pbkdf2-sha256$0$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$999$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000001$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$99999999999$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$01000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$+1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1e4$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        /* salt: too short (4 bytes), bad characters, no padding, padding inside */
        "pbkdf2-sha256$1000$c2FsdA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA*=$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000$c2l0ZWdh=GUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000$c2l0ZWdh dGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        /* hash: 31 bytes, 33 bytes, URL-safe alphabet, trailing junk, a fifth field */
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPg==",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjcA",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u-IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=\n",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=$",
        "pbkdf2-sha256$1000$c2l0ZWdhdGUta2F0LXNhbA==$u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=$x",
        "correct horse battery staple",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (password_hash_valid(bad[i]) || verify("correct horse battery staple", bad[i]))
            TEST__FAIL("accepted malformed #%zu: %s", i, bad[i]);
    }
    ASSERT(!password_hash_valid(NULL));
    ASSERT(!password_verify("x", 1, NULL));
    ASSERT(!password_verify(NULL, 0, KAT_1000));

    /* A salt longer than 64 bytes and a huge string are refused, not overflowed. */
    char big[4096];
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ASSERT(!password_hash_valid(big));
    char longsalt[300];
    snprintf(longsalt, sizeof(longsalt), "pbkdf2-sha256$1000$%0*d$%s", 92, 0,
             "u+IXX6EoOgtvXSwcV6eKnYrOwkkOWhSD7biye7WkPjc=");
    ASSERT(!password_hash_valid(longsalt));
}

int main(void)
{
    RUN(new_then_verify);
    RUN(stored_form);
    RUN(salted);
    RUN(known_answers);
    RUN(new_errors);
    RUN(malformed);
    return test_summary();
}
