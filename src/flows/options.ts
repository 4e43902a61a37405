/**
 * Named limits and timeouts of the flow table and TCP reassembly, with their defaults (docs/flows.md). Times are in
 * seconds of capture time (packet timestamps), so a capture replays the same way however fast it is read.
 */
export interface FlowLimits {
  /** Live flows at most; beyond it the flow idle the longest is ended ("evicted"). */
  maxFlows: number;
  /** Idle timeout of an established TCP connection (handshake seen, or data in both directions). */
  tcpEstablishedTimeout: number;
  /** Idle timeout of a TCP connection whose handshake did not complete (scans, SYN floods, one-sided pickup). */
  tcpUnestablishedTimeout: number;
  /** How long a closed TCP connection (FIN both ways, or RST) waits for its last packets. */
  tcpClosedTimeout: number;
  /** Idle timeout of a UDP flow. */
  udpTimeout: number;
  /** Out-of-order bytes buffered per direction before the hole in front of them becomes a gap. */
  maxBufferBytes: number;
  /** Seconds a hole may wait for its bytes before it becomes a gap. */
  gapTimeout: number;
  /** Bytes a consumer may leave unconsumed per direction (an incomplete PDU) before they are dropped as a gap. */
  maxPendingBytes: number;
  /** Announced side connections (DCC, file-transfer rendezvous) remembered at most. */
  maxExpectations: number;
  /**
   * A packet older than the flow clock by more than this (seconds) is a jump back in time: the clock then carries
   * on from where it was instead of standing still until packet time catches up.
   */
  clockJumpSeconds: number;
  /** Whether VLAN ids are part of the flow key (the same 5-tuple on two VLANs is then two flows). */
  vlanInKey: boolean;
}

export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  maxFlows: 262_144,
  tcpEstablishedTimeout: 3600,
  tcpUnestablishedTimeout: 90,
  tcpClosedTimeout: 5,
  udpTimeout: 120,
  maxBufferBytes: 4 << 20,
  gapTimeout: 30,
  maxPendingBytes: 1 << 20,
  maxExpectations: 10_000,
  clockJumpSeconds: 300,
  vlanInKey: true,
};
