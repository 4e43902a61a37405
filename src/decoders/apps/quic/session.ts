/**
 * The QUIC session: opens the client's Initial packets (one UDP datagram per `onData`, coalesced packets walked),
 * reassembles their CRYPTO stream, parses the ClientHello with the TLS parser (`../tls/client-hello.ts`) and reports
 * the server name (`quic_sni`), one `tls` row (transport `quic`) and the verdict; then the flow is encrypted and the
 * session stops. Server datagrams are only counted (the server's Initial needs nothing the client's does not show
 * first, and TLS 1.3 hides the certificate).
 *
 * Keys: the client's first Destination Connection ID and the packet's version give the Initial keys (RFC 9001 §5.2).
 * After a Retry (RFC 9000 §17.2.5) the client keys its Initials with the connection ID the server chose, which is then
 * the packet's own Destination Connection ID: when the first keys fail, the packet's own are tried. Keys are kept per
 * (version, connection ID), at most KEY_CACHE of them, and found again by comparing bytes (no text key per packet).
 */
import type { Dir, ImSession, SessionContext, Time } from '../../im/types.js';
import { isGrease, ja4, parseClientHello, versionName, type ClientHello } from '../tls/client-hello.js';
import { Add, CryptoStream } from './crypto-stream.js';
import { readInitialFrames } from './frames.js';
import { initialKeys, openPacket, quicVersion, versionHex, type InitialKeys, type QuicVersion } from './initial.js';
import type { QuicLimits } from './limits.js';
import { parseLongHeader } from './packet.js';

const KEY_CACHE = 4;

/** Whether `a` holds the same bytes as `b[s, e)`. */
function sameBytes(a: Uint8Array, b: Uint8Array, s: number, e: number): boolean {
  if (a.length !== e - s) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[s + i]) return false;
  return true;
}

interface KeyEntry {
  version: number;
  cid: Uint8Array;
  keys: InitialKeys;
}

export class QuicSession implements ImSession {
  private firstDcid: Uint8Array | null = null;
  /** Initial keys derived on this flow, oldest first. */
  private readonly keys: KeyEntry[] = [];
  private largestPn = -1;
  private readonly crypto: CryptoStream;
  /** Version of the first Initial packet that opened. */
  private version = 0;
  private initials = 0;
  private datagrams = 0;
  private opened = 0;
  private over = false;
  /** Anomalies reported once per flow. */
  private cryptoLimitSaid = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly limits: QuicLimits,
  ) {
    this.crypto = new CryptoStream(limits.maxCryptoBytes, limits.maxCryptoRanges);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    if (this.over) return len;
    if (++this.datagrams > this.limits.maxDatagrams) {
      this.giveUp(ts, `no complete ClientHello after ${this.limits.maxDatagrams} datagrams`);
      return len;
    }
    if (dir === 0) {
      this.datagram(data, off, off + len, ts);
      if (!this.over) this.tryClientHello(ts);
    }
    return len;
  }

  onGap(_dir: Dir, _len: number, _ts: Time): void {}

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(ts: Time): void {
    if (this.over) return;
    this.over = true;
    this.ctx.anomaly(ts, 'quic_client_hello_incomplete', `flow ended with ${this.crypto.contiguous} contiguous of ${this.crypto.received} CRYPTO bytes from ${this.opened} of ${this.initials} client Initial packets opened`);
  }

  /** Walk the packets coalesced in one client datagram `data[p, end)` (RFC 9000 §12.2). */
  private datagram(data: Uint8Array, p: number, end: number, ts: Time): void {
    const base = p;
    while (p < end && !this.over) {
      const first = data[p]!;
      // A short header (1-RTT) runs to the end of the datagram; zero bytes after the packets are padding.
      if ((first & 0x80) === 0) return;
      if (end - p < 5) {
        this.ctx.anomaly(ts, 'quic_bad_packet', `long header of ${end - p} bytes at datagram offset ${p - base}`);
        return;
      }
      const version = ((data[p + 1]! << 24) | (data[p + 2]! << 16) | (data[p + 3]! << 8) | data[p + 4]!) >>> 0;
      const v = quicVersion(version);
      if (v === null) return; // a version we cannot parse further: its lengths are unknown
      const h = parseLongHeader(data, p, end, v.initialType);
      if (typeof h === 'string') {
        this.ctx.anomaly(ts, 'quic_bad_packet', `${v.name} packet at datagram offset ${p - base}: ${h}`);
        return;
      }
      if (h.type === v.initialType) this.initial(v, data, p, h.dcidAt, h.dcidLen, h.pnAt, h.end, ts, p - base);
      p = h.end;
    }
  }

  private initial(v: QuicVersion, data: Uint8Array, start: number, dcidAt: number, dcidLen: number, pnAt: number, end: number, ts: Time, at: number): void {
    if (++this.initials > this.limits.maxInitialPackets) {
      this.giveUp(ts, `no complete ClientHello after ${this.limits.maxInitialPackets} Initial packets`);
      return;
    }
    this.firstDcid ??= data.slice(dcidAt, dcidAt + dcidLen);
    let opened = openPacket(this.keysFor(v, this.firstDcid, 0, this.firstDcid.length), data, start, pnAt, end, this.largestPn);
    if (opened === null && !sameBytes(this.firstDcid, data, dcidAt, dcidAt + dcidLen)) {
      opened = openPacket(this.keysFor(v, data, dcidAt, dcidAt + dcidLen), data, start, pnAt, end, this.largestPn);
    }
    if (opened === null) {
      this.ctx.anomaly(ts, 'quic_decrypt_failed', `${v.name} Initial packet of ${end - start} bytes at datagram offset ${at} (destination connection ID ${dcidLen} bytes) does not authenticate`);
      return;
    }
    if (this.opened++ === 0) {
      this.version = v.version;
      // An AEAD tag that verifies under the Initial keys is proof enough of QUIC.
      this.ctx.confirm(0.9);
    }
    if (opened.pn > this.largestPn) this.largestPn = opened.pn;
    const err = readInitialFrames(opened.payload, this.limits.maxFramesPerPacket, (offset, d, s, e) => {
      const r = this.crypto.add(offset, d, s, e);
      if (r !== Add.Ok && !this.cryptoLimitSaid) {
        this.cryptoLimitSaid = true;
        this.ctx.anomaly(
          ts,
          'quic_crypto_limit',
          r === Add.OverLimit ? `CRYPTO frame [${offset}, ${offset + e - s}) goes past maxCryptoBytes ${this.limits.maxCryptoBytes}` : `CRYPTO frame at ${offset} would be piece ${this.limits.maxCryptoRanges + 1}, over maxCryptoRanges ${this.limits.maxCryptoRanges}`,
        );
      }
    });
    if (err !== null) this.ctx.anomaly(ts, 'quic_bad_frame', `${v.name} Initial packet number ${opened.pn}: ${err}`);
  }

  private keysFor(v: QuicVersion, b: Uint8Array, s: number, e: number): InitialKeys {
    for (const k of this.keys) if (k.version === v.version && sameBytes(k.cid, b, s, e)) return k.keys;
    const keys = initialKeys(v, b.subarray(s, e), 'client');
    if (this.keys.length >= KEY_CACHE) this.keys.shift();
    this.keys.push({ version: v.version, cid: b.slice(s, e), keys });
    return keys;
  }

  /** Once the CRYPTO stream holds the whole first handshake message: report it and stop. */
  private tryClientHello(ts: Time): void {
    const n = this.crypto.contiguous;
    if (n < 4) return;
    const b = this.crypto.bytes;
    if (b[0] !== 1) {
      this.ctx.anomaly(ts, 'quic_not_client_hello', `first handshake message type ${b[0]} in the client's CRYPTO stream`);
      this.stop(ts);
      return;
    }
    const len = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
    if (4 + len > this.limits.maxCryptoBytes) {
      if (!this.cryptoLimitSaid) this.ctx.anomaly(ts, 'quic_crypto_limit', `ClientHello of ${len} bytes exceeds maxCryptoBytes ${this.limits.maxCryptoBytes}`);
      this.stop(ts);
      return;
    }
    if (n < 4 + len) return;
    const hello = parseClientHello(b, 4, len);
    if (typeof hello === 'string') {
      this.ctx.anomaly(ts, 'quic_bad_client_hello', hello);
      this.stop(ts);
      return;
    }
    this.report(hello, ts);
    this.stop(ts);
  }

  private report(h: ClientHello, ts: Time): void {
    if (h.sni !== null && h.sni.length > 0) this.ctx.hostName(h.sni, 'quic_sni', ts);
    const versions: string[] = [];
    for (const v of h.versions) if (!isGrease(v)) versions.push(versionName(v));
    if (versions.length === 0) versions.push(versionName(h.legacyVersion));
    this.ctx.row('tls', {
      ts,
      transport: 'quic',
      sni: h.sni,
      ech: h.ech,
      alpn: h.alpn.length > 0 ? h.alpn.join(',') : null,
      versions: versions.join(','),
      ja4: ja4(h, 'q'),
      quic_version: versionHex(this.version),
      server_version: null,
      cipher: null,
      cert_subject: null,
      cert_names: null,
      cert_issuer: null,
    });
  }

  private giveUp(ts: Time, why: string): void {
    this.ctx.anomaly(ts, 'quic_client_hello_incomplete', `${why}: ${this.crypto.contiguous} contiguous of ${this.crypto.received} CRYPTO bytes from ${this.opened} of ${this.initials} client Initial packets opened`);
    this.stop(ts);
  }

  private stop(ts: Time): void {
    this.over = true;
    // Whatever was read of the handshake, the rest of a QUIC flow is encrypted.
    this.ctx.encrypted('quic', ts);
  }
}

export function createQuicSession(ctx: SessionContext, limits: QuicLimits): ImSession {
  return new QuicSession(ctx, limits);
}
