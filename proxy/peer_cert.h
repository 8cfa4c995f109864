/* Who a charger's TLS client certificate says it is (OCPP security profile 3). */
#ifndef SITEGATE_PEER_CERT_H
#define SITEGATE_PEER_CERT_H

#include <stddef.h>

#include "config.h"

struct lws;

/* The verified client certificate's subject CN, or its serial number in
 * upper-case hex (as `openssl x509 -serial` prints it), into out. 0; -ENOENT
 * when the peer sent no certificate (or the socket has no TLS); -EPERM when
 * its certificate did not verify; -EINVAL when the field is missing or longer
 * than cap - 1. */
int peer_cert_identity(struct lws *wsi, enum config_cert_id field, char *out, size_t cap);

#endif
