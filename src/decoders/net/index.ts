/**
 * The packet decoders' public surface: PacketDecoder (decoder.ts), its output (decoded.ts), anomaly codes
 * (anomalies.ts) and link type names (linktypes.ts).
 */
export { PacketDecoder, type DecoderOptions } from './decoder.js';
export * from './decoded.js';
export * from './anomalies.js';
export * from './linktypes.js';
