/**
 * The parts of an SDP body (RFC 4566) that matter here: the media a session offers (audio/video make a call; RFC 4975
 * `m=message <port> TCP/MSRP *` makes an MSRP chat or file session) and, for MSRP media, the `a=path:` URIs (RFC 4975
 * §8.1, §9), the connection address (`c=`), `a=accept-types`, and the RFC 5547 file-transfer attributes
 * (`a=file-selector:name:"…" type:… size:… hash:…`, `a=sendonly`/`recvonly`). MSRP URIs: RFC 4975 §6
 * (`msrp://host:port/session-id;tcp`, `msrps://` over TLS). Pure; results are fresh strings.
 */

export interface FileSelector {
  name: string | null;
  type: string | null;
  size: number | null;
}

export interface MsrpMedia {
  /** The `a=path:` URIs, in order (the last one is the endpoint's own). */
  paths: string[];
  /** The connection address for this media (media-level `c=`, else session-level), or null. */
  address: string | null;
  tls: boolean;
  file: FileSelector | null;
}

/** An RTP media stream (`m=audio`/`m=video` over RTP/AVP, RTP/SAVP(F), UDP/TLS/RTP/SAVP(F)…), RFC 4566 §5.14. */
export interface RtpMedia {
  media: 'audio' | 'video';
  /** The connection address (media-level `c=`, else session-level), or null. */
  address: string | null;
  port: number;
  /** Where RTCP goes: `a=rtcp:` (RFC 3605), else port + 1 (RFC 3550 §11); null with `a=rtcp-mux` (RFC 5761). */
  rtcpPort: number | null;
  rtcpAddress: string | null;
  /** The profile says SRTP (RFC 3711 SAVP, SAVPF). */
  secure: boolean;
}

export interface SdpInfo {
  /** Media types of the m= lines (audio, video, message, application…). */
  media: string[];
  msrp: MsrpMedia[];
  /** Audio and video over RTP with a port (0: the stream is refused, RFC 3264 §6). */
  rtp: RtpMedia[];
}

function fileSelector(v: string): FileSelector {
  const name = /name:"((?:[^"\\]|\\.)*)"/.exec(v)?.[1] ?? /name:(\S+)/.exec(v)?.[1] ?? null;
  const type = /type:([^\s;]+)/.exec(v)?.[1] ?? null;
  const size = /size:([0-9]{1,15})/.exec(v)?.[1];
  return { name, type: type?.toLowerCase() ?? null, size: size === undefined ? null : Number(size) };
}

export function parseSdp(text: string): SdpInfo {
  const media: string[] = [];
  const msrp: MsrpMedia[] = [];
  const rtp: RtpMedia[] = [];
  let sessionAddr: string | null = null;
  let cur: MsrpMedia | null = null;
  let curRtp: RtpMedia | null = null;
  let inMedia = false;
  // Line by line without splitting: only m=, c= and a= lines are read (a= only inside a media section that uses them).
  for (let at = 0; at < text.length; ) {
    let lf = text.indexOf('\n', at);
    if (lf < 0) lf = text.length;
    const ls = at;
    const le = lf > ls && text.charCodeAt(lf - 1) === 0x0d ? lf - 1 : lf;
    at = lf + 1;
    if (le - ls < 2 || text.charCodeAt(ls + 1) !== 0x3d) continue;
    const key = text.charCodeAt(ls);
    if (key === 0x61 /* a */ ? curRtp === null && cur === null : key !== 0x6d /* m */ && key !== 0x63 /* c */) continue;
    const v = text.slice(ls + 2, le);
    switch (text[ls]) {
      case 'm': {
        inMedia = true;
        const f = v.split(/\s+/);
        media.push((f[0] ?? '').toLowerCase());
        const proto = (f[2] ?? '').toUpperCase();
        if (f[0]?.toLowerCase() === 'message' && proto.endsWith('/MSRP')) {
          cur = { paths: [], address: sessionAddr, tls: proto.includes('TLS'), file: null };
          msrp.push(cur);
        } else cur = null;
        curRtp = null;
        const type = (f[0] ?? '').toLowerCase();
        const port = /^[0-9]{1,5}(?:\/[0-9]+)?$/.test(f[1] ?? '') ? parseInt(f[1]!, 10) : 0;
        if ((type === 'audio' || type === 'video') && proto.includes('RTP/') && !proto.includes('TCP') && port > 0 && port <= 65535) {
          curRtp = { media: type, address: sessionAddr, port, rtcpPort: port < 65535 ? port + 1 : null, rtcpAddress: null, secure: proto.includes('SAVP') };
          rtp.push(curRtp);
        }
        break;
      }
      case 'c': {
        const addr = /^IN\s+IP[46]\s+([^\s/]+)/i.exec(v)?.[1] ?? null;
        if (!inMedia) sessionAddr = addr;
        else if (cur !== null) cur.address = addr;
        else if (curRtp !== null) curRtp.address = addr;
        break;
      }
      case 'a': {
        if (curRtp !== null) {
          if (v === 'rtcp-mux') curRtp.rtcpPort = null;
          else if (v.startsWith('rtcp:') && curRtp.rtcpPort !== null) {
            // RFC 3605: a=rtcp:<port> [IN IP4 <address>]
            const m = /^rtcp:([0-9]{1,5})(?:\s+IN\s+IP[46]\s+(\S+))?/i.exec(v);
            const p = m === null ? 0 : Number(m[1]);
            if (p > 0 && p <= 65535) {
              curRtp.rtcpPort = p;
              curRtp.rtcpAddress = m![2] ?? null;
            }
          }
          break;
        }
        if (cur === null) break;
        if (v.startsWith('path:')) cur.paths = v.slice(5).trim().split(/\s+/).filter((p) => p.length > 0);
        else if (v.startsWith('file-selector:')) cur.file = fileSelector(v.slice(14));
        break;
      }
    }
  }
  return { media, msrp, rtp };
}

export interface MsrpUri {
  scheme: 'msrp' | 'msrps';
  host: string;
  port: number;
  sessionId: string;
  transport: string;
}

/** Parse `msrp://[user@]host[:port]/session-id;transport`; null when it is not one. */
export function parseMsrpUri(s: string): MsrpUri | null {
  const m = /^(msrps?):\/\/(?:[^@/]*@)?(\[[0-9a-fA-F:.]+\]|[^:/;]+)(?::([0-9]{1,5}))?\/([^;/\s]+);([A-Za-z0-9-]+)/i.exec(s.trim());
  if (m === null) return null;
  const scheme = m[1]!.toLowerCase() as 'msrp' | 'msrps';
  const port = m[3] === undefined ? 2855 : Number(m[3]); // RFC 4975 §6: the default port is 2855
  if (port < 1 || port > 65535) return null;
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1).toLowerCase() : m[2]!.toLowerCase();
  return { scheme, host, port, sessionId: m[4]!, transport: m[5]!.toLowerCase() };
}
