/**
 * A TLS flow over TCP: the record layer (RFC 8446 §5.1, RFC 5246 §6.2) of each direction, handshake messages
 * reassembled across records and TCP segments (bounded by maxHandshakeBytes), the client's ClientHello and the
 * server's ServerHello and, before TLS 1.3, its first certificate. Reports the SNI (or, without one, the certificate's
 * first name) as the flow's host name, one `tls` row, and then calls the flow encrypted: the rest is ciphertext.
 *
 * A direction is finished when what it shows in clear has been read (ClientHello; ServerHello of TLS 1.3, Certificate
 * before 1.3), when it switches to ciphertext (ChangeCipherSpec, application data), on an alert, a gap, an error, or
 * its end. Both finished, or maxFlowBytes read: the row is written and the flow is encrypted.
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import { ja4, offeredVersion, parseClientHello, versionName, isGrease, type ClientHello } from './client-hello.js';
import { TLS_LIMITS, type TlsLimits } from './limits.js';
import { CertificateCache, firstCertificate, parseServerHello, type CertNames, type ServerHello } from './server.js';

const CT_CCS = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPDATA = 23;
const CT_HEARTBEAT = 24;

const HS_CLIENT_HELLO = 1;
const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;

const EMPTY = new Uint8Array(0);

function hex4(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** The code and the rest of a parser's `<code>: <detail>` error string. */
function splitError(e: string): [string, string] {
  const i = e.indexOf(': ');
  return i < 0 ? ['tls_bad_handshake', e] : [e.slice(0, i), e.slice(i + 2)];
}

export class TlsSession implements ImSession {
  private readonly finished: [boolean, boolean] = [false, false];
  /** Handshake bytes of each direction not yet forming a whole message (copied out of the record views). */
  private readonly acc: [Uint8Array, Uint8Array] = [EMPTY, EMPTY];
  private readonly accLen: [number, number] = [0, 0];
  /** Offset in the stream of each direction, for anomaly details. */
  private readonly at: [number, number] = [0, 0];
  private read = 0;
  private stopped = false;
  private rowWritten = false;

  private hello: ClientHello | null = null;
  private helloTs: Time | null = null;
  private server: ServerHello | null = null;
  private serverTs: Time | null = null;
  private cert: CertNames | null = null;
  private sniGiven = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: TlsLimits = TLS_LIMITS,
  ) {}

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.stopped || this.finished[dir]) return len;
    const end = off + len;
    let p = off;
    while (!this.finished[dir] && end - p >= 5) {
      const ct = data[p]!;
      const rl = (data[p + 3]! << 8) | data[p + 4]!;
      if (ct < CT_CCS || ct > CT_HEARTBEAT || data[p + 1] !== 3 || data[p + 2]! > 4 || rl > this.limits.maxRecordBytes) {
        this.anomaly(ts, 'tls_bad_record', `record header ${ct}/0x${data[p + 1]!.toString(16).padStart(2, '0')}${data[p + 2]!.toString(16).padStart(2, '0')}/${rl} at stream offset ${this.at[dir] + p - off} ${dir === 0 ? 'c2s' : 's2c'}`);
        this.finish1(dir, ts);
        break;
      }
      if (end - p < 5 + rl) break;
      this.record(dir, ct, data, p + 5, rl, ts, this.at[dir] + p - off);
      p += 5 + rl;
    }
    const used = this.finished[dir] ? len : p - off;
    this.at[dir] += used;
    this.read += used;
    if (!this.stopped && this.read >= this.limits.maxFlowBytes) {
      this.anomaly(ts, 'tls_budget', `${this.read} bytes read without the handshake completing (limit ${this.limits.maxFlowBytes})`);
      this.stop(ts);
    }
    return used;
  }

  onGap(dir: Dir, len: number, ts: Time): void {
    if (this.stopped || this.finished[dir]) return;
    this.anomaly(ts, 'tls_gap', `${len} bytes missing ${dir === 0 ? 'c2s' : 's2c'} at stream offset ${this.at[dir]}`);
    this.finish1(dir, ts);
  }

  onEnd(dir: Dir, ts: Time): void {
    if (!this.stopped && !this.finished[dir]) this.finish1(dir, ts);
  }

  finish(ts: Time): void {
    this.writeRow(ts);
  }

  // ── records and handshake messages ──

  private record(dir: Dir, ct: number, data: Uint8Array, s: number, len: number, ts: Time, at: number): void {
    switch (ct) {
      case CT_HANDSHAKE:
        this.handshake(dir, data, s, len, ts, at);
        return;
      case CT_CCS:
      case CT_APPDATA:
      case CT_ALERT:
        // From here the direction is ciphertext (or the handshake failed): nothing more in clear.
        this.finish1(dir, ts);
        return;
      default:
        return; // heartbeat
    }
  }

  /** Handshake bytes `data[s, s + len)` of one record: whole messages straight from the view, the rest buffered. */
  private handshake(dir: Dir, data: Uint8Array, s: number, len: number, ts: Time, at: number): void {
    const e = s + len;
    let p = s;
    if (this.accLen[dir] === 0) {
      p = this.messages(dir, data, s, e, ts, at);
      if (this.finished[dir] || p === e) return;
    }
    // Keep the rest (a message cut by the record boundary) and try again with what it makes.
    const n = e - p;
    const have = this.accLen[dir];
    if (have + n > this.limits.maxHandshakeBytes + 4) {
      this.anomaly(ts, 'tls_handshake_too_long', `${have + n} handshake bytes buffered ${dir === 0 ? 'c2s' : 's2c'}, over the limit of ${this.limits.maxHandshakeBytes}`);
      this.finish1(dir, ts);
      return;
    }
    let buf = this.acc[dir];
    if (buf.length < have + n) {
      const grown = new Uint8Array(Math.min(this.limits.maxHandshakeBytes + 4, Math.max(have + n, buf.length * 2, 1024)));
      grown.set(buf.subarray(0, have), 0);
      buf = grown;
      this.acc[dir] = grown;
    }
    buf.set(data.subarray(p, e), have);
    const total = have + n;
    if (this.accLen[dir] === 0) {
      this.accLen[dir] = total;
      return; // the view had no whole message: nothing new to parse
    }
    const q = this.messages(dir, buf, 0, total, ts, at);
    if (this.finished[dir]) return;
    buf.copyWithin(0, q, total);
    this.accLen[dir] = total - q;
  }

  /** Parse the whole handshake messages in `b[s, e)`; returns where the first incomplete one starts. */
  private messages(dir: Dir, b: Uint8Array, s: number, e: number, ts: Time, at: number): number {
    let p = s;
    while (!this.finished[dir] && e - p >= 4) {
      const type = b[p]!;
      const mlen = (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
      if (mlen > this.limits.maxHandshakeBytes) {
        this.anomaly(ts, 'tls_handshake_too_long', `handshake message type ${type} of ${mlen} bytes ${dir === 0 ? 'c2s' : 's2c'} near stream offset ${at}, over the limit of ${this.limits.maxHandshakeBytes}`);
        this.finish1(dir, ts);
        return e;
      }
      const avail = Math.min(mlen, e - p - 4);
      if (dir === 1 && type === HS_CERTIFICATE) {
        // The first certificate is enough: no need to hold the whole chain.
        if (this.certificate(b, p + 4, avail, mlen, ts) || avail === mlen) {
          this.finish1(1, ts);
          return e;
        }
        return p;
      }
      if (avail < mlen) return p;
      this.message(dir, type, b, p + 4, mlen, ts, at);
      p += 4 + mlen;
    }
    return p;
  }

  private message(dir: Dir, type: number, b: Uint8Array, s: number, len: number, ts: Time, at: number): void {
    if (dir === 0) {
      if (type !== HS_CLIENT_HELLO) {
        if (this.hello === null) this.anomaly(ts, 'tls_bad_handshake', `first client handshake message is type ${type}, not a ClientHello, near stream offset ${at}`);
        this.finish1(0, ts);
        return;
      }
      const h = parseClientHello(b, s, len);
      if (typeof h === 'string') {
        const [code, detail] = splitError(h);
        this.anomaly(ts, code, `ClientHello near stream offset ${at}: ${detail}`);
        this.finish1(0, ts);
        return;
      }
      if (this.hello === null) this.clientHello(h, ts);
      this.finish1(0, ts);
      return;
    }
    if (type === HS_SERVER_HELLO) {
      const sh = parseServerHello(b, s, len);
      if (typeof sh === 'string') {
        const [code, detail] = splitError(sh);
        this.anomaly(ts, code, `ServerHello near stream offset ${at}: ${detail}`);
        this.finish1(1, ts);
        return;
      }
      if (this.server === null || this.server.retry) {
        this.server = sh;
        this.serverTs = ts;
      }
      if (this.hello === null) this.ctx.confirm(0.9);
      // TLS 1.3: everything after the ServerHello is encrypted (a HelloRetryRequest is 1.3 too).
      if (sh.version >= 0x0304 && !isGrease(sh.version)) this.finish1(1, ts);
      return;
    }
    // ServerKeyExchange, ServerHelloDone… before a Certificate: a handshake without one (anonymous, PSK); keep going.
  }

  /** The first certificate of a Certificate message, when its bytes are at hand; true when done with it. */
  private certificate(b: Uint8Array, s: number, avail: number, len: number, ts: Time): boolean {
    const r = firstCertificate(b, s, avail, len, this.limits.maxCertificateBytes);
    if (r === 'need') return false;
    if (typeof r === 'string') {
      const [code, detail] = splitError(r);
      this.anomaly(ts, code, `Certificate: ${detail}`);
      return true;
    }
    const names = this.ctx.runState('tls.certificates', () => new CertificateCache()).names(b.subarray(s + r[0], s + r[0] + r[1]), this.limits.maxCertNames);
    if (typeof names === 'string') {
      const [code, detail] = splitError(names);
      this.anomaly(ts, code, detail);
      return true;
    }
    this.cert = names;
    if (!this.sniGiven) {
      const first = names.names[0] ?? names.subject;
      if (first !== null && first !== undefined && first.length > 0) {
        this.sniGiven = true;
        this.ctx.hostName(first.startsWith('*.') ? first.slice(2) : first, 'certificate', ts);
      }
    }
    return true;
  }

  private clientHello(h: ClientHello, ts: Time): void {
    this.hello = h;
    this.helloTs = ts;
    this.ctx.confirm(0.9);
    if (h.sni !== null && h.sni.length > 0) {
      this.sniGiven = true;
      this.ctx.hostName(h.sni, 'sni', ts);
    }
  }

  // ── ending ──

  private finish1(dir: Dir, ts: Time): void {
    this.finished[dir] = true;
    this.acc[dir] = EMPTY;
    this.accLen[dir] = 0;
    if (this.finished[0] && this.finished[1]) this.stop(ts);
  }

  private stop(ts: Time): void {
    if (this.stopped) return;
    this.stopped = true;
    this.finished[0] = this.finished[1] = true;
    this.writeRow(ts);
    if (this.hello !== null || this.server !== null) this.ctx.encrypted('tls', ts);
    else this.ctx.done();
  }

  private anomaly(ts: Time, code: string, detail: string): void {
    this.ctx.anomaly(ts, code, detail);
  }

  private writeRow(ts: Time): void {
    if (this.rowWritten || (this.hello === null && this.server === null)) return;
    this.rowWritten = true;
    const h = this.hello;
    const sv = this.server;
    let versions: string | null = null;
    if (h !== null) {
      const vs: string[] = [];
      for (const v of h.versions) if (!isGrease(v)) vs.push(versionName(v));
      versions = vs.length > 0 ? vs.join(',') : versionName(offeredVersion(h));
    }
    const c = this.cert;
    this.ctx.row('tls', {
      ts: this.helloTs ?? this.serverTs ?? ts,
      transport: 'tls',
      sni: h?.sni ?? null,
      ech: h?.ech ?? false,
      alpn: h !== null && h.alpn.length > 0 ? h.alpn.join(',') : null,
      versions,
      ja4: h !== null ? ja4(h, 't') : null,
      quic_version: null,
      server_version: sv !== null ? versionName(sv.version) : null,
      cipher: sv !== null ? hex4(sv.cipher) : null,
      cert_subject: c?.subject ?? null,
      cert_names: c !== null && c.names.length > 0 ? c.names.join(',') : null,
      cert_issuer: c?.issuer ?? null,
    });
  }
}

export function createTlsSession(ctx: SessionContext): ImSession {
  return new TlsSession(ctx);
}
