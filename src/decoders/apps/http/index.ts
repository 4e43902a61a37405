/**
 * HTTP/1.x (RFC 9112, RFC 9110) as a carrier: an `http` row per request with its response's status, the first Host
 * as the flow's server name (matched against the app rules), CONNECT tunnels and WebSocket upgrades, and plain-HTTP
 * web messaging (web-apps.ts: facebook.com's 2010 chat box). `app` null: a flow names an app only when its Host or
 * a web-messaging request does. See README.md in this folder.
 */
import type { ImProtocol } from '../../im/types.js';
import { probeHttp } from './detect.js';
import { HTTP_ANOMALIES, HTTP_LIMITS } from './limits.js';
import { createHttpSession } from './session.js';

export const http: ImProtocol = {
  id: 'http',
  name: 'Hypertext Transfer Protocol (HTTP/1.x)',
  transport: 'tcp',
  app: null,
  tables: ['http'],
  // No port hints: HTTP is everywhere, and protocols tunnelled in HTTP request lines (MSN's gateway on 80) must be
  // asked before this probe; hinting 80 would put it first there.
  ports: [],
  probe: probeHttp,
  createSession: (ctx) => createHttpSession(ctx),
  limits: HTTP_LIMITS,
  anomalies: HTTP_ANOMALIES,
};
