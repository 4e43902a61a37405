/**
 * Both ends of a DCC SEND (the CTCP DCC protocol as mIRC and irssi implement it; no RFC, see the "CTCP" and "DCC"
 * write-ups at irchelp.org): the sender listens and writes the file's bytes; the receiver connects, reads, and after
 * every read sends the total received so far as a 4-byte big-endian count (mod 2^32). The sender closes after
 * the ack for the last byte. These are the bytes a tap sees on the side connection that the CTCP line announced.
 */
import net from 'node:net';
import crypto from 'node:crypto';

/** 127.0.0.1 → 2130706433, the form DCC puts in the CTCP line. */
export function ipv4ToDecimal(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((n, p) => n * 256 + p, 0);
}

export function decimalToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** Deterministic bytes (AES-256-CTR over zeros with a key from the seed): same seed, same file, same hashes. */
export function generateBytes(size: number, seed: string): Buffer {
  const key = crypto.createHash('sha256').update(seed).digest();
  const c = crypto.createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()]);
}

export interface DccSendResult {
  bytesSent: number;
  acks: number;
  lastAck: number;
  /** The receiver's end of the connection as the sender saw it. */
  peerPort: number;
}

/**
 * Listens on host:port for one connection and sends data on it. `listening` resolves once the port is bound (the
 * CTCP offer must not go out before that); `done` once the final ack came in and the connection is closed.
 */
export function dccServe(data: Buffer, host: string, port: number, timeoutMs = 30_000): { listening: Promise<void>; done: Promise<DccSendResult> } {
  const server = net.createServer();
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const done = new Promise<DccSendResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      server.close();
      reject(new Error(`DCC send on port ${port}: not completed within ${timeoutMs} ms`));
    }, timeoutMs);
    server.once('connection', (sock) => {
      const peerPort = sock.remotePort ?? 0;
      // One transfer per offer: nobody else may connect to the announced port.
      server.close();
      const want = data.length % 2 ** 32;
      let acks = 0;
      let lastAck = -1;
      let pending: Buffer = Buffer.alloc(0);
      const fail = (err: Error) => {
        clearTimeout(timer);
        sock.destroy();
        reject(err);
      };
      sock.on('error', fail);
      sock.on('data', (b: Buffer) => {
        pending = pending.length ? Buffer.concat([pending, b]) : b;
        while (pending.length >= 4) {
          lastAck = pending.readUInt32BE(0);
          acks++;
          pending = pending.subarray(4);
        }
        if (lastAck === want) sock.end();
      });
      sock.on('close', () => {
        clearTimeout(timer);
        if (lastAck !== want) reject(new Error(`DCC send: connection closed at ack ${lastAck} of ${want}`));
        else resolve({ bytesSent: data.length, acks, lastAck, peerPort });
      });
      sock.write(data);
    });
  });
  return { listening, done };
}

export interface DccReceiveResult {
  data: Buffer;
  acks: number;
  localPort: number;
}

/** Connects to the offer, reads size bytes while acking each read, and resolves once the sender has closed. */
export function dccReceive(ip: string, port: number, size: number, timeoutMs = 30_000): Promise<DccReceiveResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let acks = 0;
    let localPort = 0;
    const sock = net.connect({ host: ip, port }, () => {
      localPort = sock.localPort ?? 0;
    });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`DCC receive from ${ip}:${port}: ${got} of ${size} bytes after ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('data', (b: Buffer) => {
      chunks.push(b);
      got += b.length;
      const ack = Buffer.alloc(4);
      ack.writeUInt32BE(got % 2 ** 32);
      sock.write(ack);
      acks++;
    });
    sock.on('end', () => sock.end());
    sock.on('close', () => {
      clearTimeout(timer);
      if (got !== size) reject(new Error(`DCC receive: ${got} of ${size} bytes when the sender closed`));
      else resolve({ data: Buffer.concat(chunks, got), acks, localPort });
    });
  });
}

export function hashes(data: Buffer): { sha256: string; md5: string } {
  return {
    sha256: crypto.createHash('sha256').update(data).digest('hex'),
    md5: crypto.createHash('md5').update(data).digest('hex'),
  };
}
