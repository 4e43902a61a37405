/**
 * The OSCAR (AIM, ICQ) and TOC client-server session: FLAP framing per direction, confirmation, resynchronisation
 * after a gap, and the sign-on and sign-off channels; SNACs go to snac.ts, TOC text to toc.ts.
 *
 * Covers the authorizer connection (old channel-1 login with TLV 1 name and TLV 2 roasted password, answered on
 * channel 4; the MD5 login of family 0x17) and the BOS connection (channel-1 sign-on with the authorization cookie,
 * TLV 6), as AIM 4.x-6.x, ICQ 2000b-6 and later third-party clients (Pidgin, Adium, Miranda, QIP) spoke them until
 * the AOL/ICQ servers closed (2017, 2024). References: see wire.ts; FLAP sizes: a frame's length field is 16 bits.
 */
import type { Dir, ImSession, SessionContext, Time } from '../types.js';
import { OSCAR_LIMITS, type OscarLimits } from './limits.js';
import { flushSsi, loginReply, onSnac, SsiList } from './snac.js';
import { OscarState } from './state.js';
import { onTocClient, onTocServer } from './toc.js';
import { Channel, FLAP_HEADER, findTlv, flapStart, nameText, readSnac, readTlvs, u16, u32 } from './wire.js';

const FLAPON = 'FLAPON\r\n\r\n';
const dirText = (d: Dir): string => (d === 0 ? 'client' : 'server');

export function createOscarSession(ctx: SessionContext, limits: Partial<OscarLimits> = {}): ImSession {
  return new OscarSession(ctx, { ...OSCAR_LIMITS, ...limits });
}

class OscarSession implements ImSession {
  private readonly st: OscarState;
  private readonly ssi = new SsiList();
  /** Bytes of an over-long frame still to skip, per direction. */
  private readonly skip: [number, number] = [0, 0];
  /** Looking for the next frame start (after a gap or invalid bytes). */
  private readonly resync: [boolean, boolean] = [false, false];
  private readonly started: [boolean, boolean] = [false, false];
  private readonly valid: [boolean, boolean] = [false, false];
  private confirmed = false;
  private stopped = false;
  private invalid = 0;
  private toc = false;

  constructor(ctx: SessionContext, limits: OscarLimits) {
    this.st = new OscarState(ctx, limits);
  }

  onData(dir: Dir, data: Uint8Array, off: number, len: number, ts: Time): number {
    const end = off + len;
    let at = off;
    while (at < end && !this.stopped) {
      if (this.skip[dir] > 0) {
        const n = Math.min(this.skip[dir], end - at);
        this.skip[dir] -= n;
        at += n;
        continue;
      }
      if (!this.started[dir]) {
        if (dir === 0 && data[at] === 0x46) {
          // TOC's FLAPON line before the first frame.
          if (end - at < FLAPON.length) return at - off;
          if (nameText(data, at, at + FLAPON.length) === FLAPON) {
            this.toc = true;
            this.st.ctx.setApp('aim');
            at += FLAPON.length;
            continue;
          }
        }
        this.started[dir] = true;
      }
      if (this.resync[dir]) {
        const q = this.findFrame(data, at, end);
        if (q < 0) return -q - 1 - off; // undecided from there on: wait for more bytes
        at = q;
        this.resync[dir] = false;
      }
      if (end - at < FLAP_HEADER) break;
      if (!flapStart(data, at)) {
        this.badFrame(dir, data[at]!, ts);
        continue;
      }
      const flen = u16(data, at + 4);
      if (flen > this.st.limits.maxFlapBytes) {
        this.st.anomaly(ts, 'oscar_flap_size_exceeded', `${dirText(dir)} FLAP frame of ${flen} bytes exceeds ${this.st.limits.maxFlapBytes}`);
        this.skip[dir] = FLAP_HEADER + flen;
        continue;
      }
      if (end - at < FLAP_HEADER + flen) break;
      this.frame(dir, data[at + 1]!, data, at + FLAP_HEADER, at + FLAP_HEADER + flen, ts);
      at += FLAP_HEADER + flen;
    }
    return this.stopped ? len : at - off;
  }

  /**
   * Resynchronising (after a gap or bad bytes): the first offset from `at` where a frame starts whose successor, with
   * the next sequence number, starts right after it. When that cannot be decided yet, `-(p + 1)` where `p` is where
   * the bytes must be kept from (an undecided candidate, or the last bytes that may begin a header). Decisions depend
   * only on the bytes, never on how they were cut.
   */
  private findFrame(b: Uint8Array, at: number, end: number): number {
    for (let p = at; p + FLAP_HEADER <= end; p++) {
      if (!flapStart(b, p)) continue;
      const flen = u16(b, p + 4);
      if (flen > this.st.limits.maxFlapBytes) continue;
      const next = p + FLAP_HEADER + flen;
      if (next + FLAP_HEADER > end) return -(p + 1);
      if (flapStart(b, next) && u16(b, next + 2) === ((u16(b, p + 2) + 1) & 0xffff)) return p;
    }
    return -(Math.max(at, end - (FLAP_HEADER - 1)) + 1);
  }

  private badFrame(dir: Dir, byte: number, ts: Time): void {
    if (!this.confirmed) {
      this.stopped = true;
      this.st.ctx.reject(`${dirText(dir)} bytes are not a FLAP frame (0x${byte.toString(16).padStart(2, '0')})`);
      return;
    }
    this.invalid++;
    if (this.invalid > this.st.limits.maxInvalidFrames) {
      this.stopped = true;
      this.st.ctx.reject(`${this.invalid} invalid FLAP headers exceed ${this.st.limits.maxInvalidFrames}: the rest of the flow is not parsed`);
      return;
    }
    this.st.anomaly(ts, 'oscar_bad_flap', `${dirText(dir)} byte 0x${byte.toString(16).padStart(2, '0')} does not start a FLAP frame`);
    this.resync[dir] = true;
  }

  private frame(dir: Dir, channel: number, b: Uint8Array, s: number, e: number, ts: Time): void {
    if (!this.confirmed) {
      this.valid[dir] = true;
      if (this.valid[0] && this.valid[1]) {
        this.confirmed = true;
        this.st.ctx.confirm(1);
      }
    }
    const st = this.st;
    switch (channel) {
      case Channel.SignOn: {
        if (e - s < 4 || u32(b, s) !== 1 || dir !== 0) return;
        const chain = readTlvs(b, s + 4, e);
        if (chain === null) return void st.anomaly(ts, 'oscar_snac_malformed', `sign-on frame of ${e - s} bytes: TLV chain cut`);
        if (findTlv(chain.tlvs, 0x0006) !== undefined) st.auth ??= 'cookie';
        else if (findTlv(chain.tlvs, 0x0002) !== undefined) st.auth = 'roasted_password';
        const name = findTlv(chain.tlvs, 0x0001);
        if (name !== undefined && name.e > name.s) st.setOwn(nameText(b, name.s, name.e), ts);
        return;
      }
      case Channel.Data: {
        if (this.toc) {
          if (dir === 0) onTocClient(st, b, s, e, ts);
          else onTocServer(st, b, s, e, ts);
          return;
        }
        const sn = readSnac(b, s, e);
        if (sn === null) return void st.anomaly(ts, 'oscar_snac_malformed', `${dirText(dir)} SNAC of ${e - s} bytes, shorter than its header`);
        onSnac(st, this.ssi, dir, b, sn, ts);
        return;
      }
      case Channel.SignOff:
        if (dir === 1 && e > s) loginReply(st, b, { s, e }, ts);
        else if (dir === 0) st.event(ts, 0, st.own, 'logout', null, null);
        return;
      default:
    }
  }

  onGap(dir: Dir, len: number, _ts: Time): void {
    if (this.skip[dir] > 0) {
      const n = Math.min(this.skip[dir], len);
      this.skip[dir] -= n;
      if (n === len) return;
    }
    this.skip[dir] = 0;
    this.resync[dir] = true;
    this.started[dir] = true;
  }

  onEnd(_dir: Dir, _ts: Time): void {}

  finish(_ts: Time): void {
    flushSsi(this.st, this.ssi);
    this.st.flushContacts('');
  }
}
