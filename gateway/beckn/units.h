/* units.h - integers inside, Beckn decimals on the wire.
 *
 * Purpose:    money is kept in minor currency units and energy in Wh; the
 *             DEG profile sends kWh and currency amounts as JSON numbers
 *             (beckn.md §3.3). These convert both ways and say how many
 *             decimals a currency has (ISO 4217 minor units).
 * Guarantees: to the wire: the double nearest to units / 10^exponent, which
 *             beckn_dumps prints with 15 significant digits, so every value
 *             below 10^13 units prints exactly (0.15, not 0.1499999…). From
 *             the wire: rounded half away from zero to a whole unit; -1 for
 *             non-numbers, negatives, non-finite or out-of-range values.
 * Pure functions. */
#ifndef P2P_BECKN_UNITS_H
#define P2P_BECKN_UNITS_H

#include <jansson.h>
#include <stdint.h>

/* Decimals of an ISO 4217 currency: 0 (JPY, KRW, …), 3 (BHD, KWD, OMR, …), else 2. */
int beckn_currency_exponent(const char *currency);

/* units / 10^exponent as a new JSON real (NULL when out of memory). */
json_t *beckn_decimal(int64_t units, int exponent);

/* A JSON number (integer or real) ≥ 0 times 10^exponent, rounded to a whole
 * unit. Returns 0, or -1 (not a number, negative, not below 2^53). */
int beckn_units(const json_t *value, int exponent, int64_t *out);

/* An amount that must be exact (a payment): a JSON number > 0 and below
 * 10^12 major units with at most `exponent` decimals, as whole minor units.
 * Returns 0, or -1 (not a number, not positive, too large, finer than a
 * minor unit). Nothing overflows whatever the number. */
int beckn_units_exact(const json_t *value, int exponent, int64_t *out);

/* json_dumps with the flags every Beckn body we send uses: compact, keys in
 * insertion order, reals with 15 significant digits. Caller frees. */
char *beckn_dumps(const json_t *doc);

#endif
