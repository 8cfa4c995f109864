/* The daemon: one libuv loop that owns all state, libwebsockets on that loop,
 * and the components wired together. */
#ifndef SITEGATE_GATEWAY_H
#define SITEGATE_GATEWAY_H

#include "config.h"

/* Exit codes of the sitegate command (documented in README.md). */
enum {
    GATEWAY_EXIT_OK = 0,
    GATEWAY_EXIT_FAILURE = 1,  /* could not start, or failed while running */
    GATEWAY_EXIT_USAGE = 2,    /* bad command line */
    GATEWAY_EXIT_CONFIG = 3,   /* the config file is invalid */
};

/* Runs the gateway on a validated config until SIGTERM or SIGINT; returns an
 * exit code. */
int gateway_run(const struct config *cfg);

#endif
