/* units.c - decimal conversions of the Beckn wire (units.h). */
#include "gateway/beckn/units.h"

#include <math.h>
#include <string.h>

static const char *const zero_decimals[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                            "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF",
                                            "XPF", NULL};
static const char *const three_decimals[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};

static int listed(const char *const *list, const char *currency)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], currency) == 0)
            return 1;
    return 0;
}

int beckn_currency_exponent(const char *currency)
{
    if (listed(zero_decimals, currency))
        return 0;
    if (listed(three_decimals, currency))
        return 3;
    return 2;
}

static double power10(int exponent)
{
    double p = 1;
    for (int i = 0; i < exponent; i++)
        p *= 10;
    return p;
}

json_t *beckn_decimal(int64_t units, int exponent)
{
    return json_real((double)units / power10(exponent));
}

int beckn_units(const json_t *value, int exponent, int64_t *out)
{
    if (!json_is_number(value))
        return -1;
    double scaled = json_number_value(value) * power10(exponent);
    if (!isfinite(scaled) || scaled < 0 || scaled >= 9007199254740992.0)
        return -1;
    *out = (int64_t)(scaled + 0.5); /* half away from zero: scaled >= 0 */
    return 0;
}

#define EXACT_MAJOR_LIMIT 1000000000000LL /* 10^12 major units */

int beckn_units_exact(const json_t *value, int exponent, int64_t *out)
{
    int64_t scale = (int64_t)power10(exponent);
    if (json_is_integer(value)) {
        json_int_t major = json_integer_value(value);
        if (major < 1 || major >= EXACT_MAJOR_LIMIT) /* checked before scaling */
            return -1;
        *out = (int64_t)major * scale;
        return 0;
    }
    if (!json_is_real(value))
        return -1;
    double x = json_real_value(value) * (double)scale, r = nearbyint(x);
    if (!(r >= 1 && r < (double)EXACT_MAJOR_LIMIT * (double)scale) || fabs(x - r) > 1e-6 * r)
        return -1;
    *out = (int64_t)r;
    return 0;
}

char *beckn_dumps(const json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
}
