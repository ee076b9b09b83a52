/*
 * log.h: structured logging to stderr.
 *
 * Text format:  "2026-11-25T07:54:08.123Z INFO  csv: message key=value"
 * JSON format (Elastic Common Schema names):
 *   {"@timestamp":"...","log.level":"info","log.logger":"csv",
 *    "message":"...","service.name":"sluice","key":"value"}
 * The level and format are process-wide (set once by the CLI).
 */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO,
    SL_LOG_WARN,
    SL_LOG_ERROR,
    SL_LOG_OFF
} sl_log_level;

typedef enum sl_log_format { SL_LOG_TEXT = 0, SL_LOG_JSON } sl_log_format;

void sl_log_setup(sl_log_level level, sl_log_format fmt);
int sl_log_parse_level(const char *s, sl_log_level *out);   /* 0 ok, -1 bad */
int sl_log_parse_format(const char *s, sl_log_format *out); /* 0 ok, -1 bad */
int sl_log_enabled(sl_log_level level);

/* printf-style message. */
void sl_log(sl_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Message plus key/value string pairs, NULL-terminated:
 *   sl_log_kv(SL_LOG_INFO, "run", "done", "rows", "1200", NULL); */
void sl_log_kv(sl_log_level level, const char *component, const char *msg,
               ...);

#endif
