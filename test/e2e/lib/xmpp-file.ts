/**
 * A file offer between two XMPP clients through the server, as Gajim, Psi and Pidgin did it before Jingle:
 * Stream Initiation with the file-transfer profile (XEP-0095, XEP-0096) negotiating the stream method by data
 * form (XEP-0020), then In-Band Bytestreams (XEP-0047) in iq stanzas: open, base64 data chunks each acknowledged by
 * an iq result, close. The receiver's side reassembles and checks size and hashes; the sender waits for each ack.
 */
import crypto from 'node:crypto';
import { xml, type Element, type XmppClient } from '@xmpp/client';

export const NS_SI = 'http://jabber.org/protocol/si';
export const NS_SI_FT = 'http://jabber.org/protocol/si/profile/file-transfer';
export const NS_FEATURE_NEG = 'http://jabber.org/protocol/feature-neg';
export const NS_DATA = 'jabber:x:data';
export const NS_IBB = 'http://jabber.org/protocol/ibb';

export interface FileOffer {
  sid: string;
  name: string;
  size: number;
  /** XEP-0096's hash attribute: MD5 hex of the content. */
  md5: string;
  mimeType: string;
  desc: string;
}

export interface ReceivedFile {
  from: string;
  offer: FileOffer;
  data: Buffer;
  chunks: number;
  blockSize: number;
  closed: boolean;
}

/**
 * Installs the receiving side on a client: accepts any SI file offer with IBB, takes the bytes, acks each iq.
 * `received(sid)` resolves when the stream with that sid has been closed by the sender.
 */
export function acceptFiles(c: XmppClient): { received(sid: string, timeoutMs: number): Promise<ReceivedFile> } {
  const files = new Map<string, ReceivedFile & { parts: Buffer[]; nextSeq: number }>();
  const waiters = new Map<string, (f: ReceivedFile) => void>();
  const bad = (condition: string) => xml('error', { type: 'cancel' }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }));

  c.iqCallee.set(NS_SI, 'si', (ctx) => {
    const si = ctx.element;
    const file = si.getChild('file', NS_SI_FT);
    const methods = si
      .getChild('feature', NS_FEATURE_NEG)
      ?.getChild('x', NS_DATA)
      ?.getChildren('field')
      .find((f) => f.attrs.var === 'stream-method')
      ?.getChildren('option')
      .map((o) => o.getChildText('value'));
    if (!file || !methods?.includes(NS_IBB)) return bad('bad-request');
    const sid = si.attrs.id ?? '';
    files.set(sid, {
      from: ctx.stanza.attrs.from ?? '',
      offer: {
        sid,
        name: file.attrs.name ?? '',
        size: Number(file.attrs.size),
        md5: file.attrs.hash ?? '',
        mimeType: si.attrs['mime-type'] ?? '',
        desc: file.getChildText('desc') ?? '',
      },
      data: Buffer.alloc(0),
      chunks: 0,
      blockSize: 0,
      closed: false,
      parts: [],
      nextSeq: 0,
    });
    // The receiver picks IBB from the offered methods (XEP-0096 §4.3, a submitted form with one value).
    return xml(
      'si',
      { xmlns: NS_SI },
      xml('feature', { xmlns: NS_FEATURE_NEG }, xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', { var: 'stream-method' }, xml('value', {}, NS_IBB)))),
    );
  });
  c.iqCallee.set(NS_IBB, 'open', (ctx) => {
    const f = files.get(ctx.element.attrs.sid ?? '');
    if (!f) return bad('item-not-found');
    f.blockSize = Number(ctx.element.attrs['block-size']);
    return true;
  });
  c.iqCallee.set(NS_IBB, 'data', (ctx) => {
    const f = files.get(ctx.element.attrs.sid ?? '');
    if (!f) return bad('item-not-found');
    // XEP-0047 §2.2: seq counts from 0 and wraps at 65535; a gap means a lost chunk, which closes the stream.
    if (Number(ctx.element.attrs.seq) !== f.nextSeq) return bad('unexpected-request');
    f.nextSeq = (f.nextSeq + 1) % 65536;
    f.parts.push(Buffer.from(ctx.element.text(), 'base64'));
    f.chunks++;
    return true;
  });
  c.iqCallee.set(NS_IBB, 'close', (ctx) => {
    const sid = ctx.element.attrs.sid ?? '';
    const f = files.get(sid);
    if (!f) return bad('item-not-found');
    f.data = Buffer.concat(f.parts);
    f.parts = [];
    f.closed = true;
    const { parts: _p, nextSeq: _n, ...done } = f;
    waiters.get(sid)?.(done);
    return true;
  });
  return {
    received: (sid, timeoutMs) =>
      new Promise((resolve, reject) => {
        const f = files.get(sid);
        if (f?.closed) {
          const { parts: _p, nextSeq: _n, ...done } = f;
          resolve(done);
          return;
        }
        const timer = setTimeout(() => reject(new Error(`file ${sid}: not closed within ${timeoutMs} ms`)), timeoutMs);
        waiters.set(sid, (x) => {
          clearTimeout(timer);
          resolve(x);
        });
      }),
  };
}

export interface SentFile {
  sid: string;
  chunks: number;
  blockSize: number;
  method: string;
}

/** Offers data to `to` (a full JID) and, once accepted with IBB, sends it in blockSize chunks, one ack at a time. */
export async function sendFile(
  c: XmppClient,
  to: string,
  data: Buffer,
  meta: { name: string; mimeType: string; desc: string; blockSize: number; timeoutMs: number },
): Promise<SentFile> {
  const sid = `imtap-${crypto.randomBytes(6).toString('hex')}`;
  const md5 = crypto.createHash('md5').update(data).digest('hex');
  const offer = xml(
    'iq',
    { type: 'set', to },
    xml(
      'si',
      { xmlns: NS_SI, id: sid, profile: NS_SI_FT, 'mime-type': meta.mimeType },
      xml('file', { xmlns: NS_SI_FT, name: meta.name, size: data.length, hash: md5 }, xml('desc', {}, meta.desc)),
      xml(
        'feature',
        { xmlns: NS_FEATURE_NEG },
        xml(
          'x',
          { xmlns: NS_DATA, type: 'form' },
          xml('field', { var: 'stream-method', type: 'list-single' }, xml('option', {}, xml('value', {}, NS_IBB))),
        ),
      ),
    ),
  );
  const answer: Element = await c.iqCaller.request(offer, meta.timeoutMs);
  const method = answer
    .getChild('si', NS_SI)
    ?.getChild('feature', NS_FEATURE_NEG)
    ?.getChild('x', NS_DATA)
    ?.getChildren('field')
    .find((f) => f.attrs.var === 'stream-method')
    ?.getChildText('value');
  if (method !== NS_IBB) throw new Error(`file offer to ${to}: receiver chose ${method ?? 'no method'}, not IBB`);
  await c.iqCaller.request(xml('iq', { type: 'set', to }, xml('open', { xmlns: NS_IBB, sid, 'block-size': meta.blockSize, stanza: 'iq' })), meta.timeoutMs);
  let chunks = 0;
  for (let at = 0; at < data.length; at += meta.blockSize) {
    const chunk = data.subarray(at, at + meta.blockSize);
    await c.iqCaller.request(
      xml('iq', { type: 'set', to }, xml('data', { xmlns: NS_IBB, seq: chunks % 65536, sid }, chunk.toString('base64'))),
      meta.timeoutMs,
    );
    chunks++;
  }
  await c.iqCaller.request(xml('iq', { type: 'set', to }, xml('close', { xmlns: NS_IBB, sid })), meta.timeoutMs);
  return { sid, chunks, blockSize: meta.blockSize, method };
}
