/* Time on the wire and inside events: RFC 3339 UTC strings ("...Z") outside,
 * integer milliseconds since the Unix epoch inside. Parsing and formatting are
 * pure (no time zone, no locale); only p2p_now_ms() reads a clock, and the
 * engine never calls it. */
#ifndef P2P_TIME_H
#define P2P_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define P2P_TIME_BUF 32

/* Wall clock, milliseconds since the epoch (UTC). Not for the engine core. */
int64_t p2p_now_ms(void);

/* Parses "YYYY-MM-DDTHH:MM:SS[.f…]Z" (UTC only; fraction truncated to ms).
 * Returns 0 and sets *ms, or -1 if the text is not such a time. */
int p2p_time_parse(const char *text, int64_t *ms);

/* Writes "YYYY-MM-DDTHH:MM:SSZ" (with_ms false) or "…SS.mmmZ" into buf. */
void p2p_time_format(int64_t ms, bool with_ms, char buf[P2P_TIME_BUF]);

#endif
