// Types for the two client libraries the e2e harness drives: neither ships declarations (irc-framework 4.14 is
// plain CommonJS, @xmpp/client 0.14 plain ESM) and DefinitelyTyped has none for these versions. Only what the
// harness uses is declared, as the libraries' sources define it.

declare module 'irc-framework' {
  import type { Socket } from 'node:net';

  export interface IrcClientOptions {
    host?: string;
    port?: number;
    nick?: string;
    username?: string;
    gecos?: string;
    password?: string;
    encoding?: string;
    version?: string | null;
    auto_reconnect?: boolean;
    ping_interval?: number;
    ping_timeout?: number;
    message_max_length?: number;
  }

  /** Payload of 'privmsg', 'notice' and 'action' (src/commands/handlers/messaging.js). */
  export interface IrcMessageEvent {
    nick: string;
    ident: string;
    hostname: string;
    target: string;
    message: string;
    type?: string;
    from_server: boolean;
  }

  export interface IrcCtcpEvent extends IrcMessageEvent {
    type: string;
  }

  export interface IrcJoinEvent {
    nick: string;
    ident: string;
    hostname: string;
    channel: string;
    gecos?: string;
  }

  export interface IrcPartEvent {
    nick: string;
    channel: string;
    message: string;
  }

  export interface IrcQuitEvent {
    nick: string;
    message: string;
  }

  export interface IrcNickEvent {
    nick: string;
    new_nick: string;
  }

  export class Client {
    constructor(options?: IrcClientOptions);
    options: IrcClientOptions;
    user: { nick: string; username: string; gecos: string };
    connection: { connected: boolean; transport?: { socket?: Socket | null } };
    connect(options?: IrcClientOptions): void;
    raw(...args: (string | number)[]): void;
    say(target: string, message: string): void;
    notice(target: string, message: string): void;
    action(target: string, message: string): string[];
    ctcpRequest(target: string, type: string, ...params: (string | number)[]): void;
    changeNick(nick: string): void;
    join(channel: string, key?: string): void;
    part(channel: string, message?: string): void;
    quit(message?: string): void;
    on(event: 'registered', fn: (e: { nick: string }) => void): this;
    on(event: 'privmsg' | 'notice' | 'action', fn: (e: IrcMessageEvent) => void): this;
    on(event: 'ctcp request', fn: (e: IrcCtcpEvent) => void): this;
    on(event: 'join', fn: (e: IrcJoinEvent) => void): this;
    on(event: 'part', fn: (e: IrcPartEvent) => void): this;
    on(event: 'quit', fn: (e: IrcQuitEvent) => void): this;
    on(event: 'nick', fn: (e: IrcNickEvent) => void): this;
    on(event: 'close' | 'socket close', fn: (err?: unknown) => void): this;
    on(event: 'irc error', fn: (e: { error: string; reason?: string }) => void): this;
    on(event: string, fn: (...args: any[]) => void): this;
    removeAllListeners(event?: string): this;
  }
}

declare module '@xmpp/client' {
  import type { Socket } from 'node:net';

  /** ltx's Element, as @xmpp/xml re-exports it. */
  export class Element {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (Element | string)[];
    getChild(name: string, ns?: string): Element | undefined;
    getChildren(name: string, ns?: string): Element[];
    getChildElements(): Element[];
    getChildText(name: string, ns?: string): string | null;
    getNS(): string | undefined;
    is(name: string, ns?: string): boolean;
    text(): string;
    append(...nodes: (Element | string)[]): Element;
    toString(): string;
  }

  export interface JID {
    local: string;
    domain: string;
    resource: string;
    bare(): JID;
    toString(): string;
  }

  type Child = Element | string | undefined | null | false;
  export function xml(name: string, attrs?: Record<string, string | number | undefined> | null, ...children: (Child | Child[])[]): Element;
  export function jid(s: string): JID;

  export interface IqContext {
    stanza: Element;
    element: Element;
    from: string;
  }

  export interface XmppClient {
    jid: JID | null;
    status: string;
    socket: (Socket & { localPort?: number }) | null;
    start(): Promise<JID>;
    stop(): Promise<void>;
    send(...elements: Element[]): Promise<void>;
    on(event: 'stanza', fn: (el: Element) => void): this;
    on(event: 'online', fn: (jid: JID) => void): this;
    on(event: 'error', fn: (err: Error) => void): this;
    on(event: 'offline' | 'disconnect', fn: () => void): this;
    on(event: string, fn: (...args: any[]) => void): this;
    iqCaller: {
      request(el: Element, timeoutMs?: number): Promise<Element>;
    };
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: IqContext) => Element | true | Promise<Element | true>): void;
      set(ns: string, name: string, handler: (ctx: IqContext) => Element | true | Promise<Element | true>): void;
    };
    reconnect: { stop(): void };
  }

  export type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

  export function client(options: {
    service: string;
    domain: string;
    resource?: string;
    username?: string;
    password?: string;
    credentials?: (authenticate: Authenticate, mechanisms: string[]) => Promise<void>;
  }): XmppClient;
}
