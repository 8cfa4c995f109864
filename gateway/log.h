/* One logging function for every component.
 *
 * Each event is one line on stderr:  "<level> <component>: <message> key=value ..."
 * so that journald (and grep) can take it apart. Secrets never go through here.
 */
#ifndef SITEGATE_LOG_H
#define SITEGATE_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Under systemd, when stderr is the journal ($JOURNAL_STREAM names it), each
 * line starts with its syslog priority, "<3>" error to "<7>" debug, which
 * journald takes as the line's priority and strips. Call once at the start,
 * before any thread logs. */
void log_detect_journal(void);

/* Sets the most verbose level that is printed (default info). */
void log_set_level(enum log_level level);

/* Parses "error", "warn", "info" or "debug"; false for anything else. */
bool log_level_parse(const char *name, enum log_level *out);

/* Whether a line at this level would be printed (to skip expensive formatting). */
bool log_enabled(enum log_level level);

/* Prints one line: level, component, then the printf-formatted message. */
void log_msg(enum log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_error(comp, ...) log_msg(LOG_LVL_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...)  log_msg(LOG_LVL_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...)  log_msg(LOG_LVL_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...) \
    do { if (log_enabled(LOG_LVL_DEBUG)) log_msg(LOG_LVL_DEBUG, comp, __VA_ARGS__); } while (0)

#endif
