/**
 * Test-side builder of YMSG byte streams, written from the protocol documentation (Wireshark's packet-ymsg.c header
 * layout; libpurple's protocols/yahoo and libyahoo2 for the services and keys), not from imtap's parser.
 *
 * Packet: 'YMSG', u16 version, u16 vendor id, u16 body length, u16 service, u32 status, u32 session id (big-endian),
 * then `key C0 80 value C0 80` pairs. The fixtures below are conversations as a YMSG 16 client (libpurple 2.7+ style
 * token login) and the pager server would have them; ids, cookies and hashes are made up.
 *
 * `ymsgFixtures()` builds every committed capture of `fixtures/pcaps/built/ymsg/` (the test regenerates them and
 * compares bytes): call it before building any other frame in the process, since IP ids count up per process.
 */
import { conversationPcap, type Conversation } from '../../helpers/conversation-pcap.js';

export type Value = string | Uint8Array;

export interface PacketOpts {
  version?: number;
  vendor?: number;
  status?: number;
  session?: number;
}

const SEP = Buffer.from([0xc0, 0x80]);

/** The body of pairs, each `key C0 80 value C0 80`. */
export function ymsgBody(pairs: [number, Value][]): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of pairs) parts.push(Buffer.from(String(k), 'ascii'), SEP, typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v), SEP);
  return Buffer.concat(parts);
}

/** One YMSG packet. */
export function ymsgPacket(service: number, pairs: [number, Value][], o: PacketOpts = {}): Buffer {
  const body = ymsgBody(pairs);
  const h = Buffer.alloc(20);
  h.write('YMSG', 0, 'ascii');
  h.writeUInt16BE(o.version ?? 16, 4);
  h.writeUInt16BE(o.vendor ?? 0, 6);
  h.writeUInt16BE(body.length, 8);
  h.writeUInt16BE(service, 10);
  h.writeUInt32BE((o.status ?? 0) >>> 0, 12);
  h.writeUInt32BE((o.session ?? 0x5a3c11e7) >>> 0, 16);
  return Buffer.concat([h, body]);
}

export const S = {
  LOGON: 0x01, LOGOFF: 0x02, ISAWAY: 0x03, ISBACK: 0x04, MESSAGE: 0x06,
  CONFINVITE: 0x18, CONFLOGON: 0x19, CONFDECLINE: 0x1a, CONFLOGOFF: 0x1b, CONFMSG: 0x1d,
  FILETRANSFER: 0x46, NOTIFY: 0x4b, P2PFILEXFER: 0x4d, AUTHRESP: 0x54, LIST: 0x55, AUTH: 0x57,
  ADDBUDDY: 0x83, CHATJOIN: 0x98, CHATEXIT: 0x9b, COMMENT: 0xa8, STATUS_UPDATE: 0xc6, FILETRANS_15: 0xdc, LIST_15: 0xf1,
} as const;

type Part = [0 | 1, Buffer];

/** Token login of YMSG 16: AUTH, the challenge, AUTHRESP with cookies and crumb hash (made up), LIST_15, LOGON. */
export function loginParts(me = 'alice_tap', o: { buddies?: boolean } = {}): Part[] {
  const parts: Part[] = [
    [0, ymsgPacket(S.AUTH, [[1, me]], { session: 0 })],
    [1, ymsgPacket(S.AUTH, [[1, me], [94, 'ly5YjFmxZ3.e4_hGBXQ0Dw--'], [13, '2']], { status: 1 })],
    [0, ymsgPacket(S.AUTHRESP, [[1, me], [0, me], [277, 'v=1&n=FAKECOOKIEY'], [278, 'z=FAKECOOKIET'], [307, 'Qm9ndXNDcnVtYkhhc2g-'], [244, '4194239'], [2, me], [2, '1'], [98, 'us'], [135, '9.0.0.2162']])],
  ];
  if (o.buddies !== false) {
    parts.push([1, ymsgPacket(S.LIST_15, [
      [302, '318'], [300, '318'], [65, 'Friends'], [302, '319'], [300, '319'], [7, 'bob_tap'], [301, '319'], [303, '319'],
      [300, '319'], [7, 'carol_tap'], [301, '319'], [303, '319'], [301, '318'], [303, '318'],
      [302, '318'], [300, '318'], [65, 'Work'], [302, '319'], [300, '319'], [7, 'dave_tap'], [241, '2'], [301, '319'], [303, '319'], [301, '318'], [303, '318'],
      [302, '320'], [300, '320'], [7, 'spammer_tap'], [301, '320'], [303, '320'],
    ], { status: 0 })]);
  }
  parts.push([1, ymsgPacket(S.LOGON, [[0, me], [1, me], [8, '1'], [7, 'bob_tap'], [10, '0'], [11, '0'], [17, '0'], [13, '1']], { status: 0 })]);
  return parts;
}

const cp1252 = (s: string): Buffer => Buffer.from([...s].map((c) => ({ '€': 0x80, '’': 0x92 } as Record<string, number>)[c] ?? c.charCodeAt(0)));

/** Login, buddy list, messages both ways (UTF-8 and Windows-1252), typing, status changes, a buddy leaving. */
export function chatParts(): Part[] {
  return [
    ...loginParts(),
    [0, ymsgPacket(S.NOTIFY, [[1, 'alice_tap'], [5, 'bob_tap'], [14, ' '], [13, '1'], [49, 'TYPING']], { status: 0x16 })],
    [0, ymsgPacket(S.MESSAGE, [[1, 'alice_tap'], [5, 'bob_tap'], [14, 'Zażółć gęślą jaźń ✓'], [97, '1'], [63, ';0'], [64, '0'], [206, '0']], { status: 0x5a55aa55 })],
    [1, ymsgPacket(S.NOTIFY, [[4, 'bob_tap'], [5, 'alice_tap'], [14, ' '], [13, '0'], [49, 'TYPING']], { status: 0x16 })],
    [1, ymsgPacket(S.MESSAGE, [[4, 'bob_tap'], [5, 'alice_tap'], [14, cp1252('Caf\u00e9 costs 3\u20ac, that\u2019s fine')], [15, '1700000100']], { status: 1 })],
    [1, ymsgPacket(S.MESSAGE, [[31, '6'], [32, '6'], [4, 'carol_tap'], [5, 'alice_tap'], [15, '1699990000'], [14, 'offline one'], [97, '1'], [4, 'dave_tap'], [5, 'alice_tap'], [15, '1699990050'], [14, '<font face="Arial">offline two</font>'], [97, '1']], { status: 5 })],
    [0, ymsgPacket(S.ISAWAY, [[10, '99'], [19, 'At lunch'], [47, '1'], [97, '1']])],
    [1, ymsgPacket(S.ISAWAY, [[7, 'bob_tap'], [10, '2'], [47, '1']])],
    [0, ymsgPacket(S.ADDBUDDY, [[1, 'alice_tap'], [7, 'erin_tap'], [65, 'Friends'], [14, 'Add me?']])],
    [1, ymsgPacket(S.LOGOFF, [[7, 'carol_tap'], [10, '0'], [13, '0']])],
    [0, ymsgPacket(S.LOGOFF, [])],
  ];
}

/** Conferences, a chat room, and file offers of the three kinds. */
export function roomParts(): Part[] {
  return [
    ...loginParts('alice_tap', { buddies: false }),
    [0, ymsgPacket(S.CONFINVITE, [[1, 'alice_tap'], [50, 'alice_tap'], [57, 'alice_tap-1234'], [58, 'Join my conference'], [52, 'bob_tap'], [52, 'carol_tap'], [13, '0']])],
    [1, ymsgPacket(S.CONFLOGON, [[1, 'alice_tap'], [57, 'alice_tap-1234'], [53, 'bob_tap']])],
    [0, ymsgPacket(S.CONFMSG, [[1, 'alice_tap'], [53, 'bob_tap'], [57, 'alice_tap-1234'], [14, 'Hello conference'], [97, '1']])],
    [1, ymsgPacket(S.CONFMSG, [[1, 'alice_tap'], [3, 'bob_tap'], [57, 'alice_tap-1234'], [14, 'Hi all'], [97, '1']])],
    [1, ymsgPacket(S.CONFLOGOFF, [[1, 'alice_tap'], [57, 'alice_tap-1234'], [56, 'bob_tap']])],
    [0, ymsgPacket(S.CHATJOIN, [[1, 'alice_tap'], [104, 'Linux, FreeBSD, Solaris:1'], [129, '0'], [62, '2']])],
    [1, ymsgPacket(S.CHATJOIN, [[104, 'Linux, FreeBSD, Solaris:1'], [105, 'Topic'], [108, '2'], [109, 'alice_tap'], [109, 'frank_tap'], [13, '1']])],
    [0, ymsgPacket(S.COMMENT, [[1, 'alice_tap'], [104, 'Linux, FreeBSD, Solaris:1'], [117, 'hello room'], [124, '1'], [97, '1']])],
    [1, ymsgPacket(S.COMMENT, [[104, 'Linux, FreeBSD, Solaris:1'], [109, 'frank_tap'], [117, 'waves'], [124, '2']])],
    [1, ymsgPacket(S.CHATEXIT, [[104, 'Linux, FreeBSD, Solaris:1'], [108, '1'], [109, 'frank_tap']])],
    [0, ymsgPacket(S.FILETRANS_15, [[1, 'alice_tap'], [5, 'bob_tap'], [265, 'UxN2Zm8xAF5sQ2UyQ0VkMA--'], [222, '1'], [266, '1'], [302, '268'], [300, '268'], [27, 'report.pdf'], [28, '48213'], [301, '268'], [303, '268']])],
    [1, ymsgPacket(S.FILETRANS_15, [[4, 'bob_tap'], [5, 'alice_tap'], [265, 'UxN2Zm8xAF5sQ2UyQ0VkMA--'], [222, '3']])],
    [1, ymsgPacket(S.P2PFILEXFER, [[5, 'alice_tap'], [4, 'carol_tap'], [13, '1'], [49, 'FILEXFER'], [27, 'photo.jpg'], [28, '1024']])],
    [1, ymsgPacket(S.FILETRANSFER, [[5, 'alice_tap'], [4, 'dave_tap'], [14, 'old style'], [20, 'http://fs.example.invalid/notes.txt'], [27, 'notes.txt'], [28, '77']])],
  ];
}

/** A refused login on port 23: AUTHRESP from the server with error 13 (bad password). */
export function failedParts(): Part[] {
  const me = 'mallory_tap';
  return [
    [0, ymsgPacket(S.AUTH, [[1, me]], { version: 15 })],
    [1, ymsgPacket(S.AUTH, [[1, me], [94, 'challenge-string'], [13, '1']], { version: 15, status: 1 })],
    [0, ymsgPacket(S.AUTHRESP, [[6, 'hashAAAA'], [96, 'hashBBBB'], [0, me], [2, me], [2, '1'], [1, me], [135, '8.1.0.421']], { version: 15 })],
    [1, ymsgPacket(S.AUTHRESP, [[66, '13']], { version: 15, status: 0xffffffff })],
  ];
}

const conv = (sport: number, cport: number, parts: Part[]): Conversation => ({ client: '10.1.0.5', server: '66.163.181.172', cport, sport, parts });

/** Every committed fixture, in a fixed order: name → pcap bytes. */
export function ymsgFixtures(): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  m.set('ymsg-chat.pcap', conversationPcap([conv(5050, 51001, chatParts())]));
  m.set('ymsg-rooms-files.pcap', conversationPcap([conv(5050, 51002, roomParts())]));
  m.set('ymsg-login-failed-port23.pcap', conversationPcap([conv(23, 51003, failedParts())]));
  return m;
}
