/**
 * Gadu-Gadu packet framing and field readers. Every packet, both ways, is `u32 type, u32 length, payload[length]`,
 * little-endian (libgadu's protocol.h and libgadu.h; Wireshark's packet-gadu-gadu.c `gadu-gadu.recv`/`.send`/`.len`).
 * The same type number means different packets in each direction (0x0b is SEND_MSG from the client, DISCONNECTING
 * from the server; 0x0c is LOGIN / NOTIFY_REPLY; 0x10 NOTIFY_LAST / USERLIST_REPLY), so they are kept in two tables.
 * Pure functions over views.
 */

export const HEADER_BYTES = 8;

export const u32 = (d: Uint8Array, at: number): number => (d[at]! | (d[at + 1]! << 8) | (d[at + 2]! << 16) | (d[at + 3]! << 24)) >>> 0;
export const u16 = (d: Uint8Array, at: number): number => d[at]! | (d[at + 1]! << 8);

/** Packets the client sends (libgadu protocol.h / libgadu.h names). */
export const C = {
  NEW_STATUS: 0x02, PING: 0x08, SEND_MSG: 0x0b, LOGIN: 0x0c, ADD_NOTIFY: 0x0d, REMOVE_NOTIFY: 0x0e,
  NOTIFY_FIRST: 0x0f, NOTIFY_LAST: 0x10, LIST_EMPTY: 0x12, LOGIN_EXT: 0x13, PUBDIR50_REQUEST: 0x14, LOGIN60: 0x15,
  USERLIST_REQUEST: 0x16, LOGIN70: 0x19, DCC7_NEW: 0x20, NEW_STATUS80BETA: 0x28, LOGIN80BETA: 0x29, SEND_MSG80: 0x2d,
  USERLIST_REQUEST80: 0x2f, LOGIN80: 0x31, NEW_STATUS80: 0x38, TYPING_NOTIFY: 0x59,
} as const;

/** Packets the server sends. */
export const R = {
  WELCOME: 0x01, STATUS: 0x02, LOGIN_OK: 0x03, SEND_MSG_ACK: 0x05, LOGIN_FAILED: 0x09, RECV_MSG: 0x0a,
  DISCONNECTING: 0x0b, NOTIFY_REPLY: 0x0c, STATUS60: 0x0f, USERLIST_REPLY: 0x10, NOTIFY_REPLY60: 0x11,
  NEED_EMAIL: 0x14, LOGIN_HASH_TYPE_INVALID: 0x16, STATUS77: 0x17, NOTIFY_REPLY77: 0x18, DCC7_NEW: 0x20,
  STATUS80BETA: 0x2a, NOTIFY_REPLY80BETA: 0x2b, RECV_MSG80: 0x2e, LOGIN_OK80: 0x35, STATUS80: 0x36,
  NOTIFY_REPLY80: 0x37, LOGIN80_FAILED: 0x43, TYPING_NOTIFY: 0x59, OWN_MESSAGE: 0x5a,
} as const;

/** Every type libgadu and Wireshark know the client to send (GG 4 to 10.5). */
export const CLIENT_TYPES = new Set([
  0x02, 0x07, 0x08, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x19, 0x1f, 0x20, 0x21, 0x22,
  0x23, 0x24, 0x25, 0x28, 0x29, 0x2d, 0x2f, 0x31, 0x38, 0x40, 0x46, 0x59, 0x62, 0x63, 0x78, 0x7b, 0x7c, 0x83,
]);

/** Every type libgadu and Wireshark know the server to send. */
export const SERVER_TYPES = new Set([
  0x01, 0x02, 0x03, 0x05, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x14, 0x16, 0x17, 0x18,
  0x1f, 0x20, 0x21, 0x22, 0x23, 0x25, 0x27, 0x2a, 0x2b, 0x2c, 0x2e, 0x30, 0x35, 0x36, 0x37, 0x41, 0x43, 0x44, 0x59,
  0x5a, 0x5b, 0x5c,
]);

/** Login packets: type → [minimum payload length, offset of the hash-type byte or -1]. */
export const LOGINS: ReadonlyMap<number, readonly [number, number]> = new Map([
  [C.LOGIN, [22, -1]], // uin, hash32, status, version, local_ip, local_port
  [C.LOGIN_EXT, [28, -1]], // + external_ip, external_port
  [C.LOGIN60, [31, -1]], // uin, hash32, status, version, dunno1, local ip/port, external ip/port, image_size, dunno2
  [C.LOGIN70, [92, 4]], // uin, hash_type, hash[64], status, version, dunno1, ip/port ×2, image_size, dunno2
  [C.LOGIN80BETA, [92, 4]],
  [C.LOGIN80, [97, 6]], // uin, language[2], hash_type, hash[64], status, flags, features, ip/port ×2, image_size, dunno2
]);

/** Largest login packet accepted by the probe (the 8.0 login carries a version string and a description). */
export const MAX_LOGIN_BYTES = 1024;

/** libgadu's GG_STATUS_* (low byte of the status) as words. */
const STATUS: Record<number, string> = {
  0x01: 'offline', 0x15: 'offline', 0x02: 'available', 0x04: 'available', 0x03: 'busy', 0x05: 'busy',
  0x17: 'ffc', 0x18: 'ffc', 0x21: 'dnd', 0x22: 'dnd', 0x14: 'invisible', 0x16: 'invisible', 0x06: 'blocked',
};

/** Status codes that carry a description in the pre-8.0 packets. */
const WITH_DESCR = new Set([0x15, 0x04, 0x05, 0x18, 0x22, 0x16]);

export function statusName(status: number): string {
  return STATUS[status & 0xff] ?? `status 0x${(status & 0xff).toString(16)}`;
}

export function hasDescr(status: number): boolean {
  return WITH_DESCR.has(status & 0xff);
}

/** The UIN without the flags GG 6-7.7 put in its top bits (ERA Omnix 0x04000000, audio 0x40000000…). */
export function uinOf(v: number): number {
  return v & 0x00ffffff;
}
