/**
 * Byte-exact MSNP streams for tests, built from the protocol documentation (hypothetic.org MSNP7-11, the nina.chat
 * wiki for MSNP13+, yellows111's MSNFTP and MIME notes): command lines, MSG payloads (lengths in bytes), MSNFTP
 * invitations and connections with their 3-byte data block headers, P2Pv1 MSNSLP file invitations. Test-side only.
 *
 * Also tshark as the independent oracle: Wireshark's `msnms` dissector (MSN Messenger Service) shows each packet's
 * MSNP text line by line (no reassembly, no fields of its own); the PDML gives every line's bytes.
 */
import type { Conversation } from '../../helpers/conversation-pcap.js';
import { run } from '../../helpers/tools.js';

export const CRLF = '\r\n';
const enc = (s: string | Uint8Array): Buffer => (typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s));

/** A MIME payload: headers, blank line, body. */
export function mime(headers: [string, string][], body: string | Uint8Array = ''): Buffer {
  const head = `MIME-Version: 1.0\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([enc(head), enc(body)]);
}

export const textPayload = (body: string | Uint8Array, charset = 'UTF-8'): Buffer =>
  mime([['Content-Type', `text/plain; charset=${charset}`], ['X-MMS-IM-Format', 'FN=Arial; EF=; CO=0; CS=0; PF=22']], body);

export const typingPayload = (user: string): Buffer => mime([['Content-Type', 'text/x-msmsgscontrol'], ['TypingUser', user]], '\r\n');

/** `MSG trid ack len` + payload (client side of a switchboard). */
export function clientMsg(trid: number, payload: Uint8Array, ack = 'N'): Buffer {
  return Buffer.concat([enc(`MSG ${trid} ${ack} ${payload.length}\r\n`), payload]);
}

/** `MSG email friendly len` + payload (server side). */
export function serverMsg(email: string, friendly: string, payload: Uint8Array): Buffer {
  return Buffer.concat([enc(`MSG ${email} ${encodeURIComponent(friendly)} ${payload.length}\r\n`), payload]);
}

/** Any payload command: `line len` + payload. */
export function payloadCmd(line: string, payload: string | Uint8Array): Buffer {
  const p = enc(payload);
  return Buffer.concat([enc(`${line} ${p.length}\r\n`), p]);
}

export const FT_GUID = '{5D3E02AB-6190-11d3-BBBB-00C04F795683}';

/** A text/x-msmsgsinvite body (`Name: value` lines). */
export function invitePayload(fields: [string, string][]): Buffer {
  return mime([['Content-Type', 'text/x-msmsgsinvite; charset=UTF-8']], fields.map(([k, v]) => `${k}: ${v}\r\n`).join('') + '\r\n');
}

/** MSNFTP data blocks: 0x00 + 16-bit LE length + bytes, at most `block` bytes each, then the end header 0x01 0x00 0x00. */
export function ftpBlocks(file: Uint8Array, block = 2045, end = true): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < file.length; at += block) {
    const piece = file.subarray(at, Math.min(file.length, at + block));
    parts.push(Buffer.from([0, piece.length & 0xff, piece.length >> 8]), Buffer.from(piece));
  }
  if (end) parts.push(Buffer.from([1, 0, 0]));
  return Buffer.concat(parts);
}

export interface FtpScenario {
  sender: string;
  receiver: string;
  filename: string;
  file: Uint8Array;
  /** The switchboard flow's client (the receiver's machine) and the file sender's listening address. */
  clientIp: string;
  senderIp: string;
  sbServer: string;
  port: number;
  cookie: string;
}

/**
 * The receiver's switchboard session (client = receiver): the sender invites, the receiver accepts, the sender
 * answers with its address; then the MSNFTP connection from the receiver to the sender, which sends the file.
 */
export function ftpConversations(s: FtpScenario, block = 2045): Conversation[] {
  const inv: [string, string][] = [
    ['Application-Name', 'File Transfer'],
    ['Application-GUID', FT_GUID],
    ['Invitation-Command', 'INVITE'],
    ['Invitation-Cookie', s.cookie],
    ['Application-File', s.filename],
    ['Application-FileSize', String(s.file.length)],
    ['Connectivity', 'N'],
  ];
  const acc: [string, string][] = [['Invitation-Command', 'ACCEPT'], ['Invitation-Cookie', s.cookie], ['Launch-Application', 'FALSE'], ['Request-Data', 'IP-Address:']];
  const acc2: [string, string][] = [['IP-Address', s.senderIp], ['Port', String(s.port)], ['AuthCookie', '55512345'], ['Invitation-Command', 'ACCEPT'], ['Invitation-Cookie', s.cookie], ['Launch-Application', 'FALSE'], ['Request-Data', 'IP-Address:']];
  const sb: Conversation = {
    client: s.clientIp,
    server: s.sbServer,
    cport: 40001,
    sport: 1863,
    parts: [
      [0, `ANS 1 ${s.receiver} 849102291.520491113 11752013\r\n`],
      [1, `IRO 1 1 1 ${s.sender} Sender%20Name\r\n`],
      [1, 'ANS 1 OK\r\n'],
      [1, serverMsg(s.sender, 'Sender Name', textPayload('here comes the file'))],
      [1, serverMsg(s.sender, 'Sender Name', invitePayload(inv))],
      [0, clientMsg(2, invitePayload(acc))],
      [1, serverMsg(s.sender, 'Sender Name', invitePayload(acc2))],
      [0, clientMsg(3, textPayload('thanks'))],
      [0, 'OUT\r\n'],
    ],
  };
  const ftp: Conversation = {
    client: s.clientIp,
    server: s.senderIp,
    cport: 40002,
    sport: s.port,
    parts: [
      [0, 'VER MSNFTP\r\n'],
      [1, 'VER MSNFTP\r\n'],
      [0, `USR ${s.receiver} 55512345\r\n`],
      [1, `FIL ${s.file.length}\r\n`],
      [0, 'TFR\r\n'],
      [1, ftpBlocks(s.file, block)],
      [0, 'BYE 16777989\r\n'],
    ],
  };
  return [sb, ftp];
}

/** The Context of an MSNSLP file INVITE: 638-byte preamble (MSN 7), size at 8, UTF-16LE name at 20. */
export function fileContext(name: string, size: number): string {
  const b = Buffer.alloc(638);
  b.writeUInt32LE(638, 0);
  b.writeUInt32LE(3, 4);
  b.writeBigUInt64LE(BigInt(size), 8);
  b.writeUInt32LE(1, 16); // no preview
  b.write(name, 20, 'utf16le');
  b.fill(0xff, 570, 574);
  return b.toString('base64');
}

/** An MSNSLP file-transfer INVITE (text, NUL-terminated body as the clients send it). */
export function slpInvite(from: string, to: string, name: string, size: number, sessionId = 1189641425): Buffer {
  const body = `EUF-GUID: {5D3E02AB-6190-11D3-BBBB-00C04F795683}\r\nSessionID: ${sessionId}\r\nAppID: 2\r\nContext: ${fileContext(name, size)}\r\n\r\n\0`;
  const head =
    `INVITE MSNMSGR:${to} MSNSLP/1.0\r\nTo: <msnmsgr:${to}>\r\nFrom: <msnmsgr:${from}>\r\n` +
    `Via: MSNSLP/1.0/TLP ;branch={33517CE4-02FC-4428-B6F4-39927229B722}\r\nCSeq: 0\r\nCall-ID: {9D79AE57-1BD5-444B-B14E-3FC9BB2B5D58}\r\n` +
    `Max-Forwards: 0\r\nContent-Type: application/x-msnmsgr-sessionreqbody\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body, 'latin1');
}

/** P2Pv1 MSG payloads carrying `slp` in chunks of at most `chunk` bytes (48-byte header, 4-byte footer 0). */
export function p2pV1Payloads(to: string, slp: Uint8Array, id = 1000, chunk = 1202): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < slp.length; at += chunk) {
    const piece = slp.subarray(at, Math.min(slp.length, at + chunk));
    const h = Buffer.alloc(48);
    h.writeUInt32LE(0, 0);
    h.writeUInt32LE(id, 4);
    h.writeBigUInt64LE(BigInt(at), 8);
    h.writeBigUInt64LE(BigInt(slp.length), 16);
    h.writeUInt32LE(piece.length, 24);
    h.writeUInt32LE(0, 28);
    h.writeUInt32LE(0x1234, 32);
    out.push(Buffer.concat([mime([['Content-Type', 'application/x-msnmsgrp2p'], ['P2P-Dest', to]]), h, piece, Buffer.alloc(4)]));
  }
  return out;
}

/** An MSNP8 notification-server session: login (TWN), contact list, presence, rename, status. */
export function ns8Parts(): [0 | 1, string | Uint8Array][] {
  return [
    [0, 'VER 1 MSNP8 CVR0\r\n'],
    [1, 'VER 1 MSNP8 CVR0\r\n'],
    [0, 'CVR 2 0x0409 win 4.10 i386 MSNMSGR 6.0.0602 MSMSGS alice@hotmail.com\r\n'],
    [1, 'CVR 2 6.0.0602 6.0.0602 6.0.0268 http://download.microsoft.com/x http://messenger.msn.com\r\n'],
    [0, 'USR 3 TWN I alice@hotmail.com\r\n'],
    [1, 'XFR 3 NS 207.46.106.145:1863 0 207.46.104.20:1863\r\n'],
    [0, 'USR 4 TWN S t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY!b8K4YhC!Ooo5ug$$&p=5eKBBC!yBH6ex5mftp!a9DrSb0B3hU8aqAWpaPn07iCGBw5akemiWSd7t2ot!okPvIR!Wqk!MKvi1IMpxfhkao9wpxlMWYAZ!DqRfACmyQGG112Bp9xrk04!BVBUa9*H9mJLoWw39m63YQRE1yHnYNv08nyz43D3OnMcaCoeSaEHVM7LpR*LWDme29qq2X3j8N\r\n'],
    [1, 'USR 4 OK alice@hotmail.com Alice%20A. 1 0\r\n'],
    [0, 'SYN 5 0\r\n'],
    [1, 'SYN 5 9 2 1\r\n'],
    [1, 'GTC A\r\n'],
    [1, 'BLP AL\r\n'],
    [1, 'LSG 0 Other%20Contacts 0\r\n'],
    [1, 'LSG 1 Friends 0\r\n'],
    [1, 'LST bob@hotmail.com Bob 11 1\r\n'],
    [1, 'LST carol@msn.com Carol%20%E2%9C%93 3 0\r\n'],
    [0, 'CHG 6 NLN 0\r\n'],
    [1, 'CHG 6 NLN 0\r\n'],
    [1, 'ILN 6 AWY bob@hotmail.com Bob 268435492\r\n'],
    [1, 'NLN BSY carol@msn.com Carol 268435492\r\n'],
    [1, 'FLN bob@hotmail.com\r\n'],
    [0, 'REA 7 alice@hotmail.com Alice%20%C3%A9t%C3%A9\r\n'],
    [1, 'REA 7 10 alice@hotmail.com Alice%20%C3%A9t%C3%A9\r\n'],
    [0, 'XFR 8 SB\r\n'],
    [1, 'XFR 8 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308\r\n'],
    [1, 'RNG 11752013 207.46.108.38:1863 CKI 849102291.520491113 bob@hotmail.com Bob\r\n'],
    [0, 'OUT\r\n'],
  ];
}

// ── tshark oracle ──

export interface MsnFrame {
  frame: number;
  src: string;
  srcport: number;
  /** The lines as Wireshark shows them, each with its line end. */
  lines: string[];
}

/** Every packet `msnms` dissects, with its lines; `ports` are decoded as msnms besides 1863. */
export function msnmsFrames(file: string, ports: number[] = []): MsnFrame[] {
  const args = ['-n', '-r', file, '-T', 'pdml', '-Y', 'msnms'];
  for (const p of ports) args.push('-d', `tcp.port==${p},msnms`);
  const xml = run('tshark', args);
  const out: MsnFrame[] = [];
  for (const pkt of xml.split('<packet>').slice(1)) {
    const frame = Number(/<field name="frame.number"[^>]* show="(\d+)"/.exec(pkt)?.[1]);
    const src = /<field name="ip.src"[^>]* show="([^"]+)"/.exec(pkt)?.[1] ?? '';
    const srcport = Number(/<field name="tcp.srcport"[^>]* show="(\d+)"/.exec(pkt)?.[1]);
    const proto = /<proto name="msnms"[\s\S]*?<\/proto>/.exec(pkt)?.[0] ?? '';
    const lines = [...proto.matchAll(/<field name=""[^>]* value="([0-9a-f]*)"/g)].map((m) => Buffer.from(m[1]!, 'hex').toString('utf8'));
    out.push({ frame, src, srcport, lines });
  }
  return out;
}

export interface OracleMessage {
  /** `MSG email …` from the server: that e-mail; from the client: null (the client's own account). */
  from: string | null;
  body: string;
  typing: boolean;
}

/** The MSG payloads of type text/plain (and typing notifications) in the frames, as tshark shows them. */
export function oracleMessages(frames: MsnFrame[]): OracleMessage[] {
  const out: OracleMessage[] = [];
  for (const f of frames) {
    const first = f.lines[0] ?? '';
    const m = /^MSG (\S+) (\S+) (\d+)\r\n$/.exec(first);
    if (!m) continue;
    const blank = f.lines.indexOf('\r\n');
    const head = f.lines.slice(1, blank < 0 ? undefined : blank).join('');
    const type = /Content-Type: ([^;\r\n]+)/i.exec(head)?.[1]?.toLowerCase() ?? '';
    const from = m[1]!.includes('@') ? m[1]! : null;
    if (type === 'text/plain') out.push({ from, body: f.lines.slice(blank + 1).join(''), typing: false });
    else if (type === 'text/x-msmsgscontrol') out.push({ from, body: '', typing: true });
  }
  return out;
}
