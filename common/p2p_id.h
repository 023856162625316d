/* Random identifiers for commands and resources (UUID version 4 from
 * libsodium's CSPRNG). Never used by the engine, whose ids are derived from
 * its inputs. */
#ifndef P2P_ID_H
#define P2P_ID_H

#define P2P_UUID_BUF 37

/* Writes a lowercase UUIDv4 string. Requires sodium_init() to have succeeded. */
void p2p_uuid(char out[P2P_UUID_BUF]);

#endif
