#include "peer_cert.h"

#include <errno.h>
#include <string.h>

#include <libwebsockets.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static int peer_cert__cn(X509 *x, char *out, size_t cap)
{
    X509_NAME *name = X509_get_subject_name(x);
    int at = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
    if (at < 0)
        return -EINVAL;
    /* A second CN would make "the" CN ambiguous. */
    if (X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0)
        return -EINVAL;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at)));
    int rc = 0;
    if (n < 0 || (size_t)n >= cap || memchr(utf8, '\0', (size_t)n)) {
        rc = -EINVAL;
    } else {
        memcpy(out, utf8, (size_t)n);
        out[n] = '\0';
    }
    OPENSSL_free(utf8);
    return rc;
}

static int peer_cert__serial(X509 *x, char *out, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    int rc = 0;
    if (!hex || strlen(hex) >= cap)
        rc = -EINVAL;
    else
        strcpy(out, hex);
    OPENSSL_free(hex);
    BN_free(bn);
    return rc;
}

int peer_cert_identity(struct lws *wsi, enum config_cert_id field, char *out, size_t cap)
{
    out[0] = '\0';
    SSL *ssl = lws_is_ssl(wsi) ? lws_get_ssl(wsi) : NULL;
    X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
    if (!x)
        return -ENOENT;
    if (SSL_get_verify_result(ssl) != X509_V_OK)
        return -EPERM;
    return field == CONFIG_CERT_ID_SERIAL ? peer_cert__serial(x, out, cap)
                                          : peer_cert__cn(x, out, cap);
}
