/* The daemon: one libuv loop that owns all state, libwebsockets on that loop,
 * and the components wired together. */
#ifndef SITEGATE_GATEWAY_H
#define SITEGATE_GATEWAY_H

#include <stddef.h>

#include "config.h"

/* Exit codes of the sitegate command (documented in README.md). */
enum {
    GATEWAY_EXIT_OK = 0,
    GATEWAY_EXIT_FAILURE = 1,  /* could not start, or failed while running */
    GATEWAY_EXIT_USAGE = 2,    /* bad command line */
    GATEWAY_EXIT_CONFIG = 3,   /* the config file is invalid */
};

/* Runs the gateway on a validated config until SIGTERM or SIGINT; returns an
 * exit code. text (len bytes) is the content of the file at path that cfg was
 * parsed from: the gateway takes it, and on SIGHUP reads path again and
 * applies what may change while running to cfg, in place (reload.h). */
int gateway_run(struct config *cfg, const char *path, char *text, size_t len);

#endif
