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

// ── MSNSLP / P2P file data (MSNP8-15, P2Pv1) ──

/** P2Pv1 flags of file data (each chunk acknowledged) and the file application id of the footer. */
export const P2P_FILE_FLAGS = 0x01000030;

/** One P2Pv1 MSG payload: MIME head with P2P-Dest, 48-byte little-endian header, data, 4-byte big-endian footer. */
export function p2pMessage(to: string, h: { session: number; id: number; offset: number; total: number; flags: number; ackId?: number }, data: Uint8Array, footer: number): Buffer {
  const b = Buffer.alloc(48);
  b.writeUInt32LE(h.session, 0);
  b.writeUInt32LE(h.id, 4);
  b.writeBigUInt64LE(BigInt(h.offset), 8);
  b.writeBigUInt64LE(BigInt(h.total), 16);
  b.writeUInt32LE(data.length, 24);
  b.writeUInt32LE(h.flags, 28);
  b.writeUInt32LE(h.ackId ?? 0x5a5a0000 + h.id, 32);
  b.writeUInt32LE(0, 36);
  b.writeBigUInt64LE(0n, 40);
  const f = Buffer.alloc(4);
  f.writeUInt32BE(footer, 0);
  return Buffer.concat([mime([['Content-Type', 'application/x-msnmsgrp2p'], ['P2P-Dest', to]]), b, Buffer.from(data), f]);
}

/** The file's data as P2P messages of session `session`: chunks of at most `chunk` bytes, one message id, offsets ascending. */
export function p2pFileData(to: string, session: number, file: Uint8Array, id = 2000, chunk = 1202): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < file.length; at += chunk) {
    out.push(p2pMessage(to, { session, id, offset: at, total: file.length, flags: P2P_FILE_FLAGS }, file.subarray(at, Math.min(file.length, at + chunk)), 2));
  }
  return out;
}

/** An MSNSLP answer (`MSNSLP/1.0 200 OK`, `603 Decline`) to a file INVITE of session `sessionId`. */
export function slpAnswer(from: string, to: string, sessionId: number, status = '200 OK'): Buffer {
  const body = `SessionID: ${sessionId}\r\n\r\n\0`;
  const head =
    `MSNSLP/1.0 ${status}\r\nTo: <msnmsgr:${to}>\r\nFrom: <msnmsgr:${from}>\r\n` +
    `Via: MSNSLP/1.0/TLP ;branch={33517CE4-02FC-4428-B6F4-39927229B722}\r\nCSeq: 1\r\nCall-ID: {9D79AE57-1BD5-444B-B14E-3FC9BB2B5D58}\r\n` +
    `Max-Forwards: 0\r\nContent-Type: application/x-msnmsgr-sessionreqbody\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body, 'latin1');
}

/** An MSNSLP BYE closing the session. */
export function slpBye(from: string, to: string): Buffer {
  const body = '\r\n\0';
  const head =
    `BYE MSNMSGR:${to} MSNSLP/1.0\r\nTo: <msnmsgr:${to}>\r\nFrom: <msnmsgr:${from}>\r\n` +
    `Via: MSNSLP/1.0/TLP ;branch={A0D624A6-6C0C-4283-A9E0-BC97B4B46D32}\r\nCSeq: 0\r\nCall-ID: {9D79AE57-1BD5-444B-B14E-3FC9BB2B5D58}\r\n` +
    `Max-Forwards: 0\r\nContent-Type: application/x-msnmsgr-sessionclosebody\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.from(head + body, 'latin1');
}

/** A P2P acknowledgement (flags 2, no data) of `total` bytes of message `ackOf`. */
export function p2pAck(to: string, session: number, ackOf: number, total: number): Buffer {
  return p2pMessage(to, { session, id: 9000 + ackOf, offset: 0, total, flags: 2, ackId: ackOf }, new Uint8Array(0), 0);
}

export interface P2pScenario {
  sender: string;
  receiver: string;
  filename: string;
  file: Uint8Array;
  session: number;
}

/**
 * A switchboard session of the file's sender (client = sender): the receiver joins, the INVITE (two SLP chunks), the
 * receiver's 200 OK and acknowledgements, the data chunks (≤ 1202 bytes) relayed through the switchboard, the BYE.
 */
export function p2pSwitchboardParts(s: P2pScenario, chunk = 1202): [0 | 1, string | Uint8Array][] {
  const inv = p2pV1Payloads(s.receiver, slpInvite(s.sender, s.receiver, s.filename, s.file.length, s.session), 1000);
  const data = p2pFileData(s.receiver, s.session, s.file, 2000, chunk);
  let trid = 2;
  const parts: [0 | 1, string | Uint8Array][] = [
    [0, `USR 1 ${s.sender} 17262740.1050826919.32308\r\n`],
    [1, `USR 1 OK ${s.sender} Sender\r\n`],
    [0, `CAL ${trid++} ${s.receiver}\r\n`],
    [1, 'CAL 2 RINGING 17262740\r\n'],
    [1, `JOI ${s.receiver} Receiver\r\n`],
    [0, clientMsg(trid++, textPayload('sending you the file'))],
    ...inv.map((c) => [0, clientMsg(trid++, c, 'D')] as [0, Buffer]),
    [1, serverMsg(s.receiver, 'Receiver', p2pAck(s.sender, 0, 1000, 0))],
    [1, serverMsg(s.receiver, 'Receiver', p2pV1Payloads(s.sender, slpAnswer(s.receiver, s.sender, s.session), 3000)[0]!)],
    ...data.map((c) => [0, clientMsg(trid++, c, 'D')] as [0, Buffer]),
    [1, serverMsg(s.receiver, 'Receiver', p2pAck(s.sender, s.session, 2000, s.file.length))],
    [1, serverMsg(s.receiver, 'Receiver', p2pV1Payloads(s.sender, slpBye(s.receiver, s.sender), 3001)[0]!)],
    [1, serverMsg(s.receiver, 'Receiver', textPayload('got it, thanks'))],
    [0, 'OUT\r\n'],
  ];
  return parts;
}

// ── HTTP gateway ──

export const GATEWAY_HOST = 'gateway.messenger.hotmail.com';

/** A client POST to the gateway (`query` after `gateway.dll?`), MSNP commands in the body, as MSN Messenger 6 sends it. */
export function gatewayPost(query: string, body: string | Uint8Array = ''): Buffer {
  const b = enc(body);
  const head =
    `POST http://${GATEWAY_HOST}/gateway/gateway.dll?${query} HTTP/1.1\r\nAccept: */*\r\nAccept-Language: en-us\r\n` +
    `User-Agent: MSMSGS\r\nHost: ${GATEWAY_HOST}\r\nProxy-Connection: Keep-Alive\r\nConnection: Keep-Alive\r\nPragma: no-cache\r\n` +
    `Content-Type: application/x-msn-messenger\r\nContent-Length: ${b.length}\r\n\r\n`;
  return Buffer.concat([enc(head), b]);
}

/** The gateway's answer: X-MSN-Messenger with the session id, MSNP commands in the body (chunked on request). */
export function gatewayReply(sessionId: string, body: string | Uint8Array = '', chunked = false, gwIp = '207.46.110.17'): Buffer {
  const b = enc(body);
  const head =
    `HTTP/1.1 200 OK\r\nServer: Microsoft-IIS/5.0\r\nDate: Mon, 02 Jun 2003 14:20:39 GMT\r\n` +
    `X-MSN-Messenger: SessionID=${sessionId}; GW-IP=${gwIp}\r\nContent-Type: application/x-msn-messenger\r\n` +
    (chunked ? 'Transfer-Encoding: chunked\r\n\r\n' : `Content-Length: ${b.length}\r\n\r\n`);
  if (!chunked) return Buffer.concat([enc(head), b]);
  const half = Math.floor(b.length / 2);
  // An empty chunk would be the last one: empty halves are left out.
  const chunk = (x: Buffer) => (x.length === 0 ? Buffer.alloc(0) : Buffer.concat([enc(`${x.length.toString(16)};ext=1\r\n`), x, enc('\r\n')]));
  return Buffer.concat([enc(head), chunk(b.subarray(0, half)), chunk(b.subarray(half)), enc('0\r\nX-Trailer: 1\r\n\r\n')]);
}

/**
 * A whole HTTP-gateway conversation on one keep-alive connection: a notification session (open, login by TWN, the
 * contact list in a chunked answer, XFR to a switchboard; the gateway hands out a new SessionID on the way) and a
 * switchboard session (open, CAL, polls: JOI, the peer's MSG split over two poll answers), interleaved; a chat MSG
 * in a POST body and one in a response body.
 */
export function gatewayParts(): [0 | 1, string | Uint8Array][] {
  const peerMsg = serverMsg('bob@hotmail.com', 'Bob', textPayload('hi alice, through the gateway'));
  const cut = 40;
  return [
    [0, gatewayPost('Action=open&Server=NS&IP=messenger.hotmail.com', 'VER 1 MSNP8 CVR0\r\n')],
    [1, gatewayReply('1029684385.22845', 'VER 1 MSNP8 CVR0\r\n')],
    [0, gatewayPost('SessionID=1029684385.22845', 'CVR 2 0x0409 win 4.10 i386 MSNMSGR 6.0.0602 MSMSGS alice@hotmail.com\r\nUSR 3 TWN I alice@hotmail.com\r\n')],
    [1, gatewayReply('1029684385.22845', 'CVR 2 6.0.0602 6.0.0602 6.0.0268 http://download.microsoft.com/x http://messenger.msn.com\r\nUSR 3 TWN S lc=1033,id=507,tw=40\r\n')],
    [0, gatewayPost('SessionID=1029684385.22845', 'USR 4 TWN S t=53*1hAu8ADuD3TEwdXoOMi08sD*2!cMrntTwVMTjoB3p6stWTqzbkKZPVQzA5NOt19SLI60PY\r\n')],
    [1, gatewayReply('1029684385.31337', 'USR 4 OK alice@hotmail.com Alice%20A. 1 0\r\n')],
    [0, gatewayPost('SessionID=1029684385.31337', 'SYN 5 0\r\n')],
    [1, gatewayReply('1029684385.31337', 'SYN 5 9 2 1\r\nGTC A\r\nBLP AL\r\nLSG 0 Other%20Contacts 0\r\nLSG 1 Friends 0\r\nLST bob@hotmail.com Bob 11 1\r\nLST carol@msn.com Carol 3 0\r\n', true)],
    [0, gatewayPost('SessionID=1029684385.31337', 'XFR 6 SB\r\n')],
    [1, gatewayReply('1029684385.31337', 'XFR 6 SB 207.46.108.37:1863 CKI 17262740.1050826919.32308\r\n')],
    [0, gatewayPost('Action=open&Server=SB&IP=207.46.108.37', 'USR 1 alice@hotmail.com 17262740.1050826919.32308\r\n')],
    [1, gatewayReply('1029684400.4411', 'USR 1 OK alice@hotmail.com Alice%20A.\r\n')],
    [0, gatewayPost('SessionID=1029684400.4411', 'CAL 2 bob@hotmail.com\r\n')],
    [1, gatewayReply('1029684400.4411', 'CAL 2 RINGING 17262740\r\n')],
    [0, gatewayPost('Action=poll&SessionID=1029684400.4411')],
    [1, gatewayReply('1029684400.4411', 'JOI bob@hotmail.com Bob\r\n')],
    [0, gatewayPost('SessionID=1029684400.4411', clientMsg(3, textPayload('hello bob, from behind the proxy')))],
    [1, gatewayReply('1029684400.4411', 'ACK 3\r\n')],
    [0, gatewayPost('Action=poll&SessionID=1029684385.31337')],
    [1, gatewayReply('1029684385.31337', 'NLN BSY bob@hotmail.com Bob 268435492\r\n')],
    [0, gatewayPost('Action=poll&SessionID=1029684400.4411')],
    [1, gatewayReply('1029684400.4411', peerMsg.subarray(0, cut))],
    [0, gatewayPost('Action=poll&SessionID=1029684400.4411')],
    [1, gatewayReply('1029684400.4411', peerMsg.subarray(cut))],
    [0, gatewayPost('SessionID=1029684400.4411', 'OUT\r\n')],
    [1, gatewayReply('1029684400.4411', '')],
  ];
}

export interface HttpFrame {
  frame: number;
  request: boolean;
  uri: string | null;
  contentType: string | null;
  /** The X-MSN-Messenger header's value (from the response's header lines). */
  msnHeader: string | null;
  /** The (de-chunked) body. */
  body: Buffer;
}

/** Every HTTP message tshark's `http` dissector finds: request URI, Content-Type, X-MSN-Messenger and body. */
export function httpFrames(file: string): HttpFrame[] {
  const out = run('tshark', ['-n', '-r', file, '-Y', 'http', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=~',
    '-e', 'frame.number', '-e', 'http.request', '-e', 'http.request.full_uri', '-e', 'http.request.uri', '-e', 'http.content_type', '-e', 'http.response.line', '-e', 'http.file_data']);
  return out.split('\n').filter((l) => l.length > 0).map((l) => {
    const [frame, req, , uri, ct, lines, data] = l.split('|');
    const msn = (lines ?? '').split('~').find((x) => /^X-MSN-Messenger:/i.test(x));
    return {
      frame: Number(frame),
      request: req === '1' || req === 'True',
      uri: uri && uri.length > 0 ? uri : null,
      contentType: ct && ct.length > 0 ? ct : null,
      msnHeader: msn === undefined ? null : msn.replace(/^X-MSN-Messenger:\s*/i, '').replace(/\\r\\n$|\r\n$/, ''),
      body: unescapeTshark(data ?? ''),
    };
  });
}

/** tshark's text rendering of bytes (`\r\n`, `\xhh`, `\ooo`, `\\`) back to the bytes (UTF-8 for the rest). */
export function unescapeTshark(s: string): Buffer {
  const out: Buffer[] = [];
  let lit = '';
  const flush = () => {
    if (lit.length > 0) out.push(Buffer.from(lit, 'utf8'));
    lit = '';
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      lit += c;
      continue;
    }
    const n = s[i + 1]!;
    const simple: Record<string, number> = { r: 13, n: 10, t: 9, '\\': 92, '"': 34, a: 7, b: 8, f: 12, v: 11 };
    flush();
    if (n in simple) {
      out.push(Buffer.from([simple[n]!]));
      i++;
    } else if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      out.push(Buffer.from([parseInt(s.slice(i + 2, i + 4), 16)]));
      i += 3;
    } else if (/^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      out.push(Buffer.from([parseInt(s.slice(i + 1, i + 4), 8)]));
      i += 3;
    } else lit += c;
  }
  flush();
  return Buffer.concat(out);
}
