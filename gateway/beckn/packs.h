/* packs.h - validating the DEG energy attribute packs inside a Beckn order.
 *
 * Purpose:    the schema checks of beckn.md §3.2 and §5.3 that a BPP makes
 *             before it ACKs a select/init/confirm: every attribute bag has
 *             "@context" (an http(s) URI) and "@type"; a bag in a known slot
 *             has the pack's @type (else 40007); the energy packs whose
 *             schemas say additionalProperties:false (EnergyTradeOffer,
 *             EnergyOrderItem, EnergyCustomer, EnergyTradeDelivery,
 *             PaymentSettlement and its accounts) refuse unknown keys; enums
 *             are checked; pack times are UTC date-times ending in Z.
 * Policy:     PaymentSettlement also accepts "description" (the DEG example
 *             of a curtailed settlement carries it); EnergyTradeOrder keeps
 *             extra keys (its schema does not forbid them).
 * Guarantees: pure; on failure fills a 400 NACK whose paths names the field
 *             as message.order.<path> (truncated to the NACK's buffer).
 */
#ifndef P2P_BECKN_PACKS_H
#define P2P_BECKN_PACKS_H

#include <jansson.h>

#include "gateway/beckn/message.h"

/* Checks every pack of message.order (orderAttributes; each order item's
 * orderItemAttributes and acceptedOffer.offerAttributes; payment's
 * paymentAttributes; enums of orderStatus and paymentStatus). Returns 0 or
 * -1 with *nack. */
int beckn_check_order_packs(const json_t *order, struct beckn_nack *nack);

/* True if text is a UTC date-time "YYYY-MM-DDTHH:MM:SS[.f]Z". */
bool beckn_utc_time(const char *text);

#endif
