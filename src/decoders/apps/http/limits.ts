/**
 * HTTP analyzer limits and anomaly codes, declared once for the descriptor and documented in this folder's README.md.
 * Every bound on buffered bytes or kept state is one of these, checked before buffering.
 */

/** A type rather than an interface so that it is a `Record<string, number>` for the descriptor's `limits`. */
export type HttpLimits = {
  /** Longest request or response head (start line, header lines, blank line). */
  maxHeadBytes: number;
  /** Header lines read per head; the rest are skipped (anomaly http_too_many_headers). */
  maxHeaders: number;
  /** Bytes of the request target kept in the `http` row (the schema's cut). */
  maxUriBytes: number;
  /** Bytes of a Host, User-Agent or Content-Type value kept in the `http` row. */
  maxValueBytes: number;
  /** `http` rows per flow; after them the session stops (`done`). */
  maxRequests: number;
  /** Requests waiting for their response; an older one is written without a status when more arrive. */
  maxPendingRequests: number;
  /** Largest form body (application/x-www-form-urlencoded) read for web messaging; bigger ones are skipped. */
  maxFormBytes: number;
  /** Bytes looked at per flow (both directions); then the pending rows are written and the session stops. */
  maxFlowBytes: number;
  /** Bytes skipped per direction looking for a start line after a gap or on a flow picked up mid-stream. */
  maxSyncBytes: number;
  /** Longest chunk-size line of a chunked body (size, extensions, CRLF). */
  maxChunkLineBytes: number;
};

export const HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxHeadBytes: 16384,
  maxHeaders: 100,
  maxUriBytes: 2048,
  maxValueBytes: 1024,
  maxRequests: 64,
  maxPendingRequests: 32,
  maxFormBytes: 65536,
  maxFlowBytes: 8 << 20,
  maxSyncBytes: 65536,
  maxChunkLineBytes: 1024,
});

export const HTTP_ANOMALIES: Readonly<Record<string, string>> = Object.freeze({
  http_head_too_long: 'A request or response head did not end within maxHeadBytes: the row keeps the start line only and that direction is no longer parsed.',
  http_too_many_headers: 'A head has more than maxHeaders header lines: the rest were not read.',
  http_bad_request_line: 'After confirmation, a request did not start with METHOD SP target SP HTTP/1.x: the client side looks for the next request line.',
  http_bad_status_line: 'A response did not start with HTTP/1.x NNN: the server side looks for the next status line.',
  http_bad_header: 'After confirmation, a header line without a name and colon (or with a control byte in its name): that direction is no longer parsed.',
  http_bad_content_length: 'A Content-Length that is not a decimal number (or two different ones): the body cannot be framed, that direction is no longer parsed.',
  http_bad_chunk_size: 'A chunk-size line of a chunked body that is not hexadecimal, too long, or not followed by CRLF after the chunk: that direction is no longer parsed.',
  http_field_truncated: 'A request target over maxUriBytes or a header value over maxValueBytes: the row holds the first bytes.',
  http_form_too_large: 'A web-messaging form body over maxFormBytes (or chunked): skipped, no message read from it.',
  http_form_bad_text: 'A web-messaging form field is not valid UTF-8: decoded with U+FFFD, the bytes are kept in body_raw.',
  http_sync_lost: 'No start line found within maxSyncBytes after a gap or at the start of a flow picked up mid-stream: that direction is no longer parsed.',
});
