/**
 * The protocol version carried as `v` in every message. It changes only for breaking changes; a breaking change
 * also moves the topic namespace (`emofleet/v2/...`) so old and new agents can coexist during a migration.
 * Additive changes (new optional fields) keep the version: receivers ignore fields they do not know.
 */
export const PROTOCOL_VERSION = 1;

export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];
