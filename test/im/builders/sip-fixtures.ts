/**
 * The built SIP/MSRP captures, in a fixed order (frame() numbers IP ids from a module counter, so the bytes are the
 * same whenever this runs first in a process). `IMTAP_REGEN=1 npx tap test/im/sip-built.test.ts` rewrites them in
 * fixtures/pcaps/built/sip/; otherwise the test checks the committed files are still these bytes.
 */
import { conversationPcap } from '../../helpers/conversation-pcap.js';
import { msrpSession } from './msrp.js';
import { cpimUdp, messageTcp, messageUdp, registerUdp } from './sip.js';

export interface BuiltFixture {
  name: string;
  pcap: Buffer;
  what: string;
}

export function sipFixtures(): BuiltFixture[] {
  return [
    { name: 'sip-message-udp.pcap', pcap: conversationPcap(messageUdp()), what: 'SIP MESSAGE over UDP: UTF-8 text, ISO-8859-1 text in compact header form, a retransmission, 200 OKs both ways' },
    { name: 'sip-message-tcp.pcap', pcap: conversationPcap(messageTcp()), what: 'SIP MESSAGE over TCP: two requests in one segment, one request split over two segments, CRLF keep-alives' },
    { name: 'sip-cpim.pcap', pcap: conversationPcap(cpimUdp()), what: 'SIP MESSAGE with an isComposing body, then one with a message/cpim body wrapping UTF-8 text' },
    { name: 'sip-register.pcap', pcap: conversationPcap(registerUdp()), what: 'SIP REGISTER, 401 digest challenge, REGISTER with Authorization, 200 OK' },
    { name: 'sip-msrp.pcap', pcap: conversationPcap(msrpSession()), what: 'SIP INVITE offering MSRP (SDP a=path), 200 OK answer, ACK; then the MSRP connection: bodiless SEND, a text message in two chunks (+ then $), a CPIM message back, a 2000-byte file, a REPORT' },
  ];
}
