/**
 * One captured packet as a capture reader hands it out.
 *
 * The reader reuses a single instance for every packet, and `data` is a view into its read buffer: both are valid
 * only until the packet callback returns. Whatever must outlive the callback (an out-of-order TCP segment, a
 * fragment, a message body) is copied by the code that keeps it.
 */
export interface PacketRecord {
  /** The read buffer; the packet's captured bytes are `data[offset, offset + caplen)`. */
  data: Uint8Array;
  offset: number;
  /** Bytes captured (what is in `data`). */
  caplen: number;
  /** Bytes on the wire (≥ caplen when the snap length cut the packet). */
  origlen: number;
  /** Whole seconds since the Unix epoch. */
  tsSec: number;
  /** Nanoseconds within the second, 0 … 999,999,999 (µs files give multiples of 1000). */
  tsNsec: number;
  /** The link type (LINKTYPE_* as in the tcpdump.org registry) of the interface that captured it. */
  linktype: number;
  /** pcapng interface index within the current section; 0 for classic pcap. */
  ifIndex: number;
  /** 1-based packet number across the whole input, as Wireshark numbers frames. */
  number: number;
  /** Byte offset of the record (pcap record header or pcapng block) in the (decompressed) input. */
  fileOffset: number;
}

export function newPacketRecord(): PacketRecord {
  return {
    data: new Uint8Array(0),
    offset: 0,
    caplen: 0,
    origlen: 0,
    tsSec: 0,
    tsNsec: 0,
    linktype: 0,
    ifIndex: 0,
    number: 0,
    fileOffset: 0,
  };
}
