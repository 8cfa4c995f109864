/* Internal to offline*.c: what the answering side and the replay share. */
#ifndef SITEGATE_OFFLINE_INT_H
#define SITEGATE_OFFLINE_INT_H

#include <stdbool.h>
#include <stddef.h>

struct session;

/* A live socket to the CSMS (its state lags behind while a close is handled). */
bool offline__upstream_ok(const struct session *s);

/* A queued message with the CSMS's transaction id instead of the local one
 * (*out NULL: nothing to change); the replay sends that. */
int offline__rewrite_frame(const char *text, size_t len, const char *tx_real, char **out,
                           size_t *out_len);

/* Moves the CALLs still held for the CSMS that it must see into the store,
 * oldest first. */
void offline__store_held(struct session *s);

#endif
