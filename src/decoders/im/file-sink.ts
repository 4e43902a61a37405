/**
 * Files carried by IM flows (IRC DCC, XMPP in-band and SOCKS5 bytestreams, later OSCAR OFT and MSN P2P): hashed as
 * they pass (MD5 and SHA-256, as auditors and threat-intelligence lookups use both) and, when extraction is on,
 * written to a file whose name cannot escape the extraction directory.
 *
 * The announced file name comes from the network and is hostile: it is reduced to its last path component, stripped
 * of control characters, of anything outside letters, digits and `._-+()@, ` and of leading dots, cut to 120 bytes,
 * and prefixed with the capture and flow it came from (`c3-f17-report.pdf`), so two transfers never collide and a file
 * leads back to its evidence. The file is created with O_EXCL (a name that exists gets a `-2`, `-3`… suffix): nothing
 * already in the directory is ever overwritten or followed through a symbolic link.
 */
import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FileMeta, FileSink, Time, TransferRow } from './types.js';

const MAX_NAME_BYTES = 120;

/** A file name safe to create inside a directory, from a name announced on the network. */
export function safeFileName(announced: string | null): string {
  let name = (announced ?? '').split(/[/\\]/).pop() ?? '';
  // Control characters (C0, DEL, C1), bidi overrides and anything else unusual become '_'.
  name = name.replace(/[^\p{L}\p{N}._\-+()@, ]/gu, '_');
  name = name.replace(/^[.\s]+/, '').replace(/\s+$/, '');
  while (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) name = name.slice(0, -1);
  return name === '' || /^_+$/.test(name) ? 'file' : name;
}

export interface ExtractOptions {
  /** Directory to write carved files to; null: hash only. */
  dir: string | null;
  /** Prefix naming where the file came from (e.g. `c3`): the file is `<prefix>-f<flow>-<name>`. */
  prefix: string;
}

/** Creates `dir/base` exclusively, adding -2, -3… before the extension when the name is taken. */
function createExclusive(dir: string, base: string): { fd: number; file: string } {
  const ext = path.extname(base);
  const stem = ext.length > 0 && ext.length < base.length ? base.slice(0, -ext.length) : base;
  for (let n = 1; ; n++) {
    const file = path.join(dir, n === 1 ? base : `${stem}-${n}${ext}`);
    try {
      return { fd: fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o640), file };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || n > 10_000) throw e;
    }
  }
}

/**
 * A file sink for one transfer. `report` receives the transfer row when the sink is closed. Writing errors (disk full)
 * stop the extraction, not the analysis: the row then has no path and `onError` is told.
 */
export function openFileSink(meta: FileMeta, flowId: number, opts: ExtractOptions, report: (ts: Time, row: TransferRow) => void, onError: (message: string) => void, openedAt: Time): FileSink {
  const md5: Hash = createHash('md5');
  const sha: Hash = createHash('sha256');
  let bytes = 0;
  let missing = 0;
  let closed = false;
  let fd = -1;
  let file: string | null = null;
  if (opts.dir !== null) {
    try {
      const opened = createExclusive(opts.dir, `${opts.prefix}-f${flowId}-${safeFileName(meta.filename)}`);
      fd = opened.fd;
      file = opened.file;
    } catch (e) {
      onError(`cannot create a file in ${opts.dir}: ${(e as Error).message}`);
    }
  }
  return {
    get bytes() {
      return bytes;
    },
    write(data, off, len) {
      if (closed || len <= 0) return;
      const view = data.subarray(off, off + len);
      md5.update(view);
      sha.update(view);
      bytes += len;
      if (fd >= 0) {
        try {
          let done = 0;
          while (done < len) done += fs.writeSync(fd, view, done, len - done);
        } catch (e) {
          onError(`writing ${file}: ${(e as Error).message}`);
          fs.closeSync(fd);
          fd = -1;
          file = null;
        }
      }
    },
    gap(len) {
      missing += len;
    },
    close(ts, complete) {
      if (closed) return;
      closed = true;
      if (fd >= 0) fs.closeSync(fd);
      const done = complete ?? (missing === 0 && meta.size !== null && bytes === meta.size);
      report(openedAt ?? ts, {
        sender: meta.sender,
        recipient: meta.recipient,
        filename: meta.filename,
        size: meta.size,
        bytes_seen: bytes,
        md5: done ? md5.digest('hex') : null,
        sha256: done ? sha.digest('hex') : null,
        complete: done,
        path: file,
        method: meta.method,
      });
    },
  };
}
