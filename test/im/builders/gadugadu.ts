/**
 * Test-side builder of Gadu-Gadu byte streams, written from the protocol documentation (libgadu's libgadu.h and
 * protocol.h structs, toxygen.net/libgadu/protocol, Wireshark's packet-gadu-gadu.c), not from imtap's parser.
 *
 * Packet: u32 type, u32 length, payload (little-endian). Text: Windows-1250 in the pre-8.0 packets and the plain
 * part of 8.0 messages, UTF-8 in the 8.0 HTML part and descriptions. UINs, seeds and hashes are made up.
 *
 * `gaduFixtures()` builds every committed capture of `fixtures/pcaps/built/gadugadu/` (the test regenerates them and
 * compares bytes): call it before building any other frame in the process, since IP ids count up per process.
 */
import { conversationPcap, type Conversation } from '../../helpers/conversation-pcap.js';

type Part = [0 | 1, Buffer];

/** Windows-1250 for the Polish letters (and ASCII): enough for these fixtures. */
const CP1250: Record<string, number> = { 'ą': 0xb9, 'ć': 0xe6, 'ę': 0xea, 'ł': 0xb3, 'ń': 0xf1, 'ó': 0xf3, 'ś': 0x9c, 'ź': 0x9f, 'ż': 0xbf, 'Ą': 0xa5, 'Ć': 0xc6, 'Ę': 0xca, 'Ł': 0xa3, 'Ń': 0xd1, 'Ó': 0xd3, 'Ś': 0x8c, 'Ź': 0x8f, 'Ż': 0xaf };
export function cp1250(s: string): Buffer {
  return Buffer.from([...s].map((c) => CP1250[c] ?? (c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : 0x3f)));
}

const le32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
};
const le16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
};
const z = (n: number): Buffer => Buffer.alloc(n);
const nul = (b: Buffer): Buffer => Buffer.concat([b, z(1)]);
const ip = (s: string): Buffer => Buffer.from(s.split('.').map(Number));

export function ggPacket(type: number, ...payload: Buffer[]): Buffer {
  const body = Buffer.concat(payload);
  return Buffer.concat([le32(type), le32(body.length), body]);
}

export const T = {
  WELCOME: 0x01, STATUS: 0x02, LOGIN_OK: 0x03, SEND_MSG_ACK: 0x05, LOGIN_FAILED: 0x09, RECV_MSG: 0x0a, SEND_MSG: 0x0b,
  LOGIN: 0x0c, NOTIFY_REPLY: 0x0c, ADD_NOTIFY: 0x0d, NOTIFY_FIRST: 0x0f, NOTIFY_LAST: 0x10, USERLIST_REPLY: 0x10,
  USERLIST_REQUEST: 0x16, STATUS77: 0x17, NOTIFY_REPLY77: 0x18, LOGIN70: 0x19, DCC7_NEW: 0x20, DCC7_ID_REQUEST: 0x23,
  DCC7_ID_REPLY: 0x23, SEND_MSG80: 0x2d, RECV_MSG80: 0x2e, LOGIN80: 0x31, LOGIN_OK80: 0x35, STATUS80: 0x36,
  NOTIFY_REPLY80: 0x37, NEW_STATUS: 0x02, NEW_STATUS80: 0x38, LOGIN80_FAILED: 0x43, TYPING_NOTIFY: 0x59,
} as const;

export const welcome = (): Buffer => ggPacket(T.WELCOME, le32(0x1a2b3c4d));

/** struct gg_login80 + version and description (libgadu protocol.h); hash type 2 = SHA-1, padded to 64 bytes. */
export function login80(uin: number, status = 0x02): Buffer {
  const version = Buffer.from('Gadu-Gadu Client Build 8.0.0.7669', 'ascii');
  return ggPacket(T.LOGIN80, le32(uin), Buffer.from('pl'), Buffer.from([2]), Buffer.concat([Buffer.alloc(20, 0x5a), z(44)]), le32(status), le32(0), le32(0x367), ip('0.0.0.0'), le16(0), ip('0.0.0.0'), le16(0), Buffer.from([255, 0x64]), le32(version.length), version, le32(0));
}

/** struct gg_login70: hash type 1 = GG32 (4 bytes, padded to 64). */
export function login70(uin: number): Buffer {
  return ggPacket(T.LOGIN70, le32(uin), Buffer.from([1]), Buffer.concat([le32(0xdeadbeef), z(60)]), le32(0x02), le32(0x2a), Buffer.from([0]), ip('192.168.1.10'), le16(1550), ip('0.0.0.0'), le16(0), Buffer.from([64, 0xbe]));
}

/** struct gg_send_msg80: recipient, seq, class, offset_plain, offset_attributes, html, plain, attributes. */
export function sendMsg80(to: number, seq: number, html: string, plain: string, attrs: Buffer = Buffer.from([0x02, 0x06, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00])): Buffer {
  const h = nul(Buffer.from(html, 'utf8'));
  const p = nul(cp1250(plain));
  return ggPacket(T.SEND_MSG80, le32(to), le32(seq), le32(0x08), le32(20 + h.length), le32(20 + h.length + p.length), h, p, attrs);
}

/** struct gg_recv_msg80: sender, seq, time, class, offset_plain, offset_attributes, html, plain, attributes. */
export function recvMsg80(from: number, seq: number, time: number, html: string, plain: string, type: number = T.RECV_MSG80): Buffer {
  const h = nul(Buffer.from(html, 'utf8'));
  const p = nul(cp1250(plain));
  return ggPacket(type, le32(from), le32(seq), le32(time), le32(0x08), le32(24 + h.length), le32(24 + h.length + p.length), h, p);
}

/** struct gg_notify_reply80 / gg_status80: uin, status, features, ip, port, image size, unknown, flags, descr. */
export function status80Entry(uin: number, status: number, descr: string): Buffer {
  const d = Buffer.from(descr, 'utf8');
  return Buffer.concat([le32(uin), le32(status), le32(0x367), ip('0.0.0.0'), le16(0), Buffer.from([255, 0]), le32(0x00800001), le32(d.length), d]);
}

/** struct gg_notify_reply77 / gg_status77 (18 bytes), then u8 length + CP1250 description when the status has one. */
export function status77Entry(uin: number, status: number, descr: string | null, inNotify: boolean): Buffer {
  const fixed = Buffer.concat([le32(uin), Buffer.from([status]), ip('10.0.0.7'), le16(1550), Buffer.from([0x2a, 64, 0]), le32(0)]);
  if (descr === null) return fixed;
  const d = cp1250(descr);
  return inNotify ? Buffer.concat([fixed, Buffer.from([d.length]), d]) : Buffer.concat([fixed, d]);
}

/** struct gg_dcc7_new: id[8], uin_from, uin_to, type (4 = file), filename[255], size, size_hi, hash[20]. */
export function dcc7New(from: number, to: number, name: string, size: number): Buffer {
  const fname = Buffer.alloc(255);
  cp1250(name).copy(fname);
  return ggPacket(T.DCC7_NEW, Buffer.from('0102030405060708', 'hex'), le32(from), le32(to), le32(4), fname, le32(size), le32(0), Buffer.alloc(20, 0x11));
}

export const ME = 1234567;
export const BUDDY = 2345678;
export const OTHER = 3456789;
export const BLOCKED = 4567890;

/** GG 8.0: SHA-1 login, contact list, status list, messages both ways (HTML + plain), typing, a file offer. */
export function gg80Parts(): Part[] {
  return [
    [1, welcome()],
    [0, login80(ME)],
    [1, ggPacket(T.LOGIN_OK80, le32(1))],
    [0, ggPacket(T.NOTIFY_LAST, le32(BUDDY), Buffer.from([0x03]), le32(OTHER), Buffer.from([0x03]), le32(BLOCKED), Buffer.from([0x04]))],
    [1, ggPacket(T.NOTIFY_REPLY80, status80Entry(BUDDY, 0x04, 'Na urlopie 🏖'), status80Entry(OTHER, 0x03, ''))],
    [0, ggPacket(T.NEW_STATUS80, le32(0x05), le32(0x00800001), le32(Buffer.byteLength('Zajęty, piszę', 'utf8')), Buffer.from('Zajęty, piszę', 'utf8'))],
    [0, ggPacket(T.TYPING_NOTIFY, le16(1), le32(BUDDY))],
    [0, sendMsg80(BUDDY, 0x4e1f0001, '<span style="color:#000000; font-family:\'MS Shell Dlg 2\'; font-size:9pt; ">Cześć, jak się masz?</span>', 'Cześć, jak się masz?')],
    [1, ggPacket(T.SEND_MSG_ACK, le32(0x02), le32(BUDDY), le32(0x4e1f0001))],
    [1, ggPacket(T.TYPING_NOTIFY, le16(0), le32(BUDDY))],
    [1, recvMsg80(BUDDY, 0x2a, 1700000123, '', 'Dobrze, dzięki! Żółw.')],
    [1, ggPacket(T.STATUS80, status80Entry(OTHER, 0x01, ''))],
    [0, ggPacket(T.DCC7_ID_REQUEST, le32(4))],
    [1, ggPacket(T.DCC7_ID_REPLY, le32(4), Buffer.from('0102030405060708', 'hex'))],
    [0, dcc7New(ME, BUDDY, 'zdjęcie z wakacji.jpg', 123456)],
  ];
}

/** GG 7.x: GG32 login on port 443, NOTIFY_FIRST/LAST, NOTIFY_REPLY77 with descriptions, CP1250 messages (one to a conference, one queued offline), status, classic contact-list import. */
export function gg70Parts(): Part[] {
  const lines = ['Anna;Nowak;Ania;Ania Nowak;;Rodzina;2345678;anna@example.invalid;;;', 'Jan;Kowalski;;Jan K;;Praca;5678901;;0;0;', ''].join('\r\n');
  return [
    [1, welcome()],
    [0, login70(ME)],
    [1, ggPacket(T.LOGIN_OK)],
    [0, ggPacket(T.NOTIFY_FIRST, le32(BUDDY), Buffer.from([0x03]))],
    [0, ggPacket(T.NOTIFY_LAST, le32(OTHER), Buffer.from([0x01]))],
    [1, ggPacket(T.NOTIFY_REPLY77, status77Entry(BUDDY, 0x04, 'Gotuję obiad', true), status77Entry(OTHER, 0x02, null, true))],
    [0, ggPacket(T.NEW_STATUS, le32(0x04), nul(cp1250('Jestem, śmiało')))],
    [0, ggPacket(T.SEND_MSG, le32(BUDDY), le32(7), le32(0x08), nul(cp1250('Zażółć gęślą jaźń')))],
    [1, ggPacket(T.RECV_MSG, le32(OTHER), le32(8), le32(1700000200), le32(0x08), nul(cp1250('Witam wszystkich')), Buffer.from([0x01]), le32(2), le32(ME), le32(BUDDY))],
    [1, ggPacket(T.RECV_MSG, le32(BUDDY), le32(9), le32(1699990000), le32(0x04 | 0x01), nul(cp1250('Wiadomość z kolejki')))],
    [1, ggPacket(T.STATUS77, status77Entry(BUDDY, 0x05, 'Zajęta', false))],
    [0, ggPacket(T.USERLIST_REQUEST, Buffer.from([0x02]))],
    [1, ggPacket(T.USERLIST_REPLY, Buffer.from([0x06]), cp1250(lines))],
  ];
}

/** A refused 8.0 login. */
export function failedParts(): Part[] {
  return [
    [1, welcome()],
    [0, login80(7654321)],
    [1, ggPacket(T.LOGIN80_FAILED, le32(1))],
  ];
}

const conv = (sport: number, cport: number, parts: Part[]): Conversation => ({ client: '10.2.0.5', server: '91.214.237.10', cport, sport, parts });

/** Every committed fixture, in a fixed order: name → pcap bytes. */
export function gaduFixtures(): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  m.set('gg80-chat.pcap', conversationPcap([conv(8074, 53001, gg80Parts())]));
  m.set('gg70-chat-port443.pcap', conversationPcap([conv(443, 53002, gg70Parts())]));
  m.set('gg80-login-failed.pcap', conversationPcap([conv(8074, 53003, failedParts())]));
  return m;
}
