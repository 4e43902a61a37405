/**
 * XMPP file transfers seen in the signalling stream: offers and the data that goes in-band.
 *
 * - XEP-0096 SI file transfer (1.3): `<si profile='…/file-transfer'><file name size hash>` in an iq set; the reply
 *   (matched by iq id) chooses the stream method through XEP-0020 feature negotiation.
 * - XEP-0047 in-band bytestreams (2.0): `<open sid block-size>`, `<data seq sid>base64</data>` in iq or message
 *   stanzas, `<close sid>`: the blocks are decoded into a file sink (hashed, extracted) in sequence order.
 * - XEP-0065 SOCKS5 bytestreams (1.8): `<query sid><streamhost host port>` announces where the data connection goes;
 *   each streamhost becomes an expected connection for the `xmpp-s5b` analyzer, with the file's name and size.
 * - XEP-0234 Jingle file transfer (namespaces :3 to :5) over XEP-0166 Jingle: `session-initiate` with a file
 *   description; XEP-0261 IBB transport (data then arrives as IBB) or XEP-0260 S5B transport (candidates become
 *   expected connections).
 *
 * Every offer gives one transfer row from this flow: the file sink's row when the data went in-band here, otherwise
 * an offer row (bytes_seen 0, complete false, no hashes) when the offer is resolved (declined, terminated, sent over
 * SOCKS5) or at the end of the flow; plus a `file_offer` event at the offer, whose detail keeps the hash the offer
 * declares (never put in md5/sha256, which are hashes of data seen).
 */
import type { Dir, FileSink, Time } from '../types.js';
import { canonicalIp, decodeBase64 } from './jid.js';
import { JingleRtp } from './jingle-rtp.js';
import type { XEl } from './parse.js';
import { NS } from './schema.js';
import type { XmppState } from './state.js';

/** What an expected SOCKS5 bytestream connection is told (`ctx.expected` of the `xmpp-s5b` session). */
export interface S5bContext {
  sid: string;
  requester: string | null;
  target: string | null;
  filename: string | null;
  size: number | null;
  sender: string | null;
  recipient: string | null;
}

interface Offer {
  keys: string[];
  ts: Time;
  via: 'si' | 'jingle';
  /** The stream method chosen (SI) when known. */
  method: string | null;
  sender: string | null;
  recipient: string | null;
  filename: string | null;
  size: number | null;
  /** Jingle: the session's initiator and responder (S5B hash roles). */
  initiator: string | null;
  responder: string | null;
  done: boolean;
}

interface Ibb {
  sid: string;
  sink: FileSink;
  size: number | null;
  blockSize: number;
  next: number;
  lost: boolean;
  closed: boolean;
}

const parseSize = (s: string | null): number | null => (s !== null && /^\s*\d{1,15}\s*$/.test(s) ? Number(s) : null);

export class Transfers {
  private readonly pending: Offer[] = [];
  private readonly byKey = new Map<string, Offer>();
  private readonly ibb = new Map<string, Ibb>();
  /** Jingle RTP sessions: their candidates become expected media flows. */
  private readonly rtp: JingleRtp;

  constructor(private readonly st: XmppState) {
    this.rtp = new JingleRtp(st);
  }

  // ── offers ──

  private addOffer(o: Offer, dir: Dir, ts: Time, hash: string | null): void {
    if (this.pending.length >= this.st.limits.maxPendingOffers) {
      const oldest = this.pending[0]!;
      this.st.anomaly(ts, 'xmpp_transfer_limit', `${this.pending.length + 1} pending file offers exceed ${this.st.limits.maxPendingOffers} (limit maxPendingOffers): the oldest is reported now`);
      this.resolve(oldest);
    }
    this.pending.push(o);
    for (const k of o.keys) this.byKey.set(k, o);
    const detail = [`name=${o.filename ?? '?'}`, `size=${o.size ?? '?'}`, `via=${o.via}`];
    if (hash !== null) detail.push(hash);
    this.st.ctx.event(ts, { account: o.sender, event: 'file_offer', target: o.recipient, detail: detail.join(' '), dir });
  }

  private forget(o: Offer): void {
    o.done = true;
    for (const k of o.keys) if (this.byKey.get(k) === o) this.byKey.delete(k);
    const i = this.pending.indexOf(o);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /** The offer gives its row now, without data from this flow. */
  private resolve(o: Offer): void {
    if (o.done) return;
    this.forget(o);
    this.st.ctx.transfer(o.ts, {
      sender: o.sender,
      recipient: o.recipient,
      filename: o.filename,
      size: o.size,
      bytes_seen: 0,
      md5: null,
      sha256: null,
      complete: false,
      path: null,
      method: o.via === 'jingle' ? 'jingle' : (o.method ?? 'si'),
    });
  }

  /** XEP-0096: an SI file-transfer offer in an iq set. */
  siOffer(iq: XEl, si: XEl, dir: Dir, ts: Time): void {
    const sid = si.attr('id');
    const file = si.child('file', NS.siFile);
    if (sid === null || file === null) return;
    const hash = file.attr('hash');
    const o: Offer = {
      keys: [sid],
      ts,
      via: 'si',
      method: null,
      sender: this.st.sender(iq, dir),
      recipient: this.st.recipient(iq, dir),
      filename: file.attr('name'),
      size: parseSize(file.attr('size')),
      initiator: null,
      responder: null,
      done: false,
    };
    const again = this.byKey.get(sid);
    if (again !== undefined) this.resolve(again); // the same sid offered again: the first offer ends here
    this.addOffer(o, dir, ts, hash !== null && /^[0-9a-fA-F]{32}$/.test(hash) ? `md5=${hash.toLowerCase()}` : null);
    this.st.expectIq(iq.attr('id'), { kind: 'si', sid });
  }

  /** The reply to an SI offer: the stream method chosen, or a refusal. */
  siReply(iq: XEl, sid: string): void {
    const o = this.byKey.get(sid);
    if (o === undefined) return;
    if (iq.attr('type') === 'error') {
      this.resolve(o);
      return;
    }
    const field = iq.child('si', NS.si)?.child('feature', NS.featureNeg)?.child('x', NS.xdata)?.children.find((f) => f.local === 'field' && f.attr('var') === 'stream-method');
    const v = field?.childText('value') ?? null;
    if (v === NS.bytestreams) o.method = 'socks5';
    else if (v === NS.ibb) o.method = 'ibb';
  }

  // ── XEP-0047 in-band bytestreams ──

  ibbOpen(stanza: XEl, open: XEl, dir: Dir, ts: Time): void {
    const sid = open.attr('sid');
    if (sid === null) return;
    this.startIbb(sid, stanza, dir, ts, Number(open.attr('block-size') ?? 4096) || 4096, false);
  }

  private startIbb(sid: string, stanza: XEl, dir: Dir, ts: Time, blockSize: number, lost: boolean): Ibb {
    const old = this.ibb.get(sid);
    if (old !== undefined) this.closeIbb(old, ts, false);
    if (this.ibb.size >= this.st.limits.maxIbbStreams) {
      const oldest = this.ibb.values().next().value;
      if (oldest !== undefined) {
        this.st.anomaly(ts, 'xmpp_transfer_limit', `${this.ibb.size + 1} open in-band bytestreams exceed ${this.st.limits.maxIbbStreams} (limit maxIbbStreams): the oldest is closed incomplete`);
        this.closeIbb(oldest, ts, false);
      }
    }
    const o = this.byKey.get(sid);
    if (o !== undefined) this.forget(o);
    const sink = this.st.ctx.openFile(ts, {
      sender: o?.sender ?? this.st.sender(stanza, dir),
      recipient: o?.recipient ?? this.st.recipient(stanza, dir),
      filename: o?.filename ?? null,
      size: o?.size ?? null,
      method: 'ibb',
    });
    const s: Ibb = { sid, sink, size: o?.size ?? null, blockSize: Math.min(Math.max(blockSize, 1), 65535), next: 0, lost, closed: false };
    this.ibb.set(sid, s);
    return s;
  }

  ibbData(stanza: XEl, data: XEl, dir: Dir, ts: Time): void {
    const sid = data.attr('sid');
    const seqText = data.attr('seq');
    if (sid === null) return;
    const seq = seqText !== null && /^\d{1,5}$/.test(seqText) && Number(seqText) <= 65535 ? Number(seqText) : -1;
    let s = this.ibb.get(sid);
    if (s === undefined) {
      this.st.anomaly(ts, 'xmpp_ibb_unknown_sid', `in-band bytestream data for sid ${sid} (seq ${seqText ?? '?'}) without its <open>`);
      s = this.startIbb(sid, stanza, dir, ts, 4096, seq !== 0);
      s.next = seq < 0 ? 0 : seq;
    }
    if (s.closed) {
      if (data.text.trim() !== '') this.st.anomaly(ts, 'xmpp_ibb_excess_data', `in-band bytestream ${sid}: block seq ${seqText ?? '?'} after the announced ${s.size ?? '?'} bytes`);
      return;
    }
    if (seq !== s.next) {
      const ahead = seq < 0 ? 0 : (seq - s.next) & 0xffff;
      if (seq < 0 || ahead >= 0x8000) {
        this.st.anomaly(ts, 'xmpp_ibb_seq_gap', `in-band bytestream ${sid}: block seq ${seqText ?? '?'} repeated or out of order, expected ${s.next}; ignored`);
        return;
      }
      this.st.anomaly(ts, 'xmpp_ibb_seq_gap', `in-band bytestream ${sid}: block seq ${seq}, expected ${s.next} (${ahead} blocks missing)`);
      s.lost = true;
      s.sink.gap(ahead * s.blockSize);
    }
    s.next = (seq + 1) & 0xffff;
    const bytes = decodeBase64(data.text);
    if (bytes === null) {
      this.st.anomaly(ts, 'xmpp_ibb_bad_base64', `in-band bytestream ${sid}: block seq ${seq} (${data.text.length} characters) is not base64`);
      s.lost = true;
      s.sink.gap(Math.floor((data.text.length * 3) / 4));
      return;
    }
    let n = bytes.length;
    if (s.size !== null && s.sink.bytes + n > s.size) {
      this.st.anomaly(ts, 'xmpp_ibb_excess_data', `in-band bytestream ${sid}: ${s.sink.bytes + n} bytes exceed the announced size ${s.size}`);
      n = Math.max(0, s.size - s.sink.bytes);
    }
    if (n > 0) s.sink.write(bytes, 0, n);
    if (s.size !== null && s.sink.bytes >= s.size) {
      // Complete at the announced size; the entry stays (closed) to recognise blocks that follow.
      s.closed = true;
      s.sink.close(ts, !s.lost);
    }
  }

  ibbClose(close: XEl, ts: Time): void {
    const sid = close.attr('sid');
    const s = sid === null ? undefined : this.ibb.get(sid);
    if (s === undefined) return;
    this.closeIbb(s, ts, true);
  }

  private closeIbb(s: Ibb, ts: Time, normally: boolean): void {
    this.ibb.delete(s.sid);
    if (s.closed) return;
    s.closed = true;
    // Without an announced size, an orderly <close> after gap-free blocks is the sender saying it is all there.
    const complete = normally && !s.lost && (s.size === null || s.sink.bytes >= s.size);
    s.sink.close(ts, complete);
  }

  // ── XEP-0065 SOCKS5 bytestreams ──

  s5bQuery(iq: XEl, query: XEl, dir: Dir, ts: Time): void {
    const sid = query.attr('sid');
    if (sid === null || iq.attr('type') !== 'set') return;
    const o = this.byKey.get(sid);
    const requester = this.st.sender(iq, dir);
    const target = this.st.recipient(iq, dir);
    this.announce(query, 'streamhost', sid, requester, target, o, ts);
    if (o !== undefined && o.via === 'si') {
      o.method = 'socks5';
      this.resolve(o);
    }
  }

  /** Each streamhost / candidate becomes an expected connection to the `xmpp-s5b` analyzer. */
  private announce(parent: XEl, child: string, sid: string, requester: string | null, target: string | null, o: Offer | undefined, ts: Time): void {
    const context: S5bContext = {
      sid,
      requester,
      target,
      filename: o?.filename ?? null,
      size: o?.size ?? null,
      sender: o?.sender ?? requester,
      recipient: o?.recipient ?? target,
    };
    let n = 0;
    for (const h of parent.children) {
      if (h.local !== child) continue;
      const host = h.attr('host');
      const portText = h.attr('port') ?? (child === 'streamhost' ? '1080' : null);
      const port = portText !== null && /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
      if (host === null || host.trim() === '' || port < 1 || port > 65535) {
        this.st.anomaly(ts, 'xmpp_bad_streamhost', `${child} ${h.attr('jid') ?? h.attr('cid') ?? '?'} of bytestream ${sid} has host ${host ?? 'none'} port ${portText ?? 'none'}`);
        continue;
      }
      if (++n > this.st.limits.maxStreamhosts) break;
      const ip = canonicalIp(host);
      this.st.ctx.expect(ts, {
        transport: 'tcp',
        host: ip,
        from: ip === null ? this.st.ctx.clientIp : null,
        port,
        ttl: this.st.limits.s5bExpectTtl,
        analyzer: 'xmpp-s5b',
        context,
      });
    }
  }

  // ── XEP-0166 / XEP-0234 Jingle file transfer ──

  jingle(iq: XEl, j: XEl, dir: Dir, ts: Time): void {
    const action = j.attr('action');
    const jsid = j.attr('sid');
    if (action === null || jsid === null) return;
    this.rtp.jingle(iq, j, dir, ts);
    let o = this.byKey.get(`jingle:${jsid}`);
    if (action === 'session-initiate' && o === undefined) o = this.jingleOffer(iq, j, jsid, dir, ts) ?? undefined;
    if (o === undefined) return;
    if (action === 'session-terminate') {
      this.resolve(o);
      return;
    }
    // Transports in any action (initiate, accept, transport-info/replace): IBB sids and S5B candidates.
    for (const c of j.children) {
      if (c.local !== 'content') continue;
      for (const t of c.children) {
        if (t.local !== 'transport') continue;
        const tsid = t.attr('sid');
        if (t.ns === NS.jingleIbb && tsid !== null && !o.done && !o.keys.includes(tsid)) {
          o.keys.push(tsid);
          this.byKey.set(tsid, o);
        } else if (t.ns === NS.jingleS5b && tsid !== null) {
          this.announce(t, 'candidate', tsid, o.initiator, o.responder, o, ts);
        }
      }
    }
  }

  private jingleOffer(iq: XEl, j: XEl, jsid: string, dir: Dir, ts: Time): Offer | null {
    for (const c of j.children) {
      if (c.local !== 'content') continue;
      const d = c.child('description');
      if (d === null || !d.ns.startsWith(NS.jingleFtPrefix)) continue;
      const file = d.child('file') ?? d.child('offer')?.child('file') ?? null;
      if (file === null) continue;
      const initiator = j.attr('initiator') ?? this.st.sender(iq, dir);
      const responder = j.attr('responder') ?? this.st.recipient(iq, dir);
      const pull = c.attr('senders') === 'responder'; // a file request: the responder sends
      const hashes: string[] = [];
      for (const h of file.children) {
        if (h.local !== 'hash' || !h.ns.startsWith(NS.hashesPrefix)) continue;
        const b = decodeBase64(h.text);
        if (b !== null && b.length > 0) hashes.push(`${h.attr('algo') ?? 'hash'}=${b.toString('hex')}`);
      }
      const o: Offer = {
        keys: [`jingle:${jsid}`],
        ts,
        via: 'jingle',
        method: null,
        sender: pull ? responder : initiator,
        recipient: pull ? initiator : responder,
        filename: file.childText('name'),
        size: parseSize(file.childText('size')),
        initiator,
        responder,
        done: false,
      };
      this.addOffer(o, dir, ts, hashes.length > 0 ? hashes.join(' ') : null);
      return o;
    }
    return null;
  }

  /** End of the flow: open in-band files close incomplete, pending offers give their rows. */
  finish(ts: Time): void {
    for (const s of [...this.ibb.values()]) this.closeIbb(s, ts, false);
    for (const o of [...this.pending]) this.resolve(o);
  }
}
