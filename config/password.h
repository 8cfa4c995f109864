/* Salted password hashes for chargers' Basic-auth passwords.
 *
 * Stored form:  pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>
 * (PBKDF2-HMAC-SHA256, standard base64 with padding, 32-byte hash). The config
 * holds only this form; `sitegate --hash-password` prints one.
 */
#ifndef SITEGATE_PASSWORD_H
#define SITEGATE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* A buffer this large holds any hash password_hash_new writes (NUL included). */
#define PASSWORD_HASH_MAX 128

/* Longest stored hash password_hash_valid accepts (longer salts than ours). */
#define PASSWORD_HASH_STORED_MAX 192

/* Hashes password (NUL-terminated, not empty) with a fresh random salt into out.
 * Returns 0, -EINVAL (empty password), -ENOSPC (out too small) or -EIO (no
 * randomness or a crypto failure). */
int password_hash_new(const char *password, char *out, size_t outlen);

/* Whether stored is a well-formed hash that password_verify can check. */
bool password_hash_valid(const char *stored);

/* Whether the len bytes at password match stored; false for a malformed stored.
 * The final comparison takes constant time. */
bool password_verify(const char *password, size_t len, const char *stored);

#endif
