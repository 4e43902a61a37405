import t from 'tap';
import { anomalyCounts, anomalyIndex, newAnomalyCounters, NET_ANOMALIES } from '../../src/decoders/net/anomalies.js';

t.test('anomaly names are unique and counted by slot', async (t) => {
  t.equal(new Set(NET_ANOMALIES).size, NET_ANOMALIES.length, 'no duplicate anomaly code');
  const c = newAnomalyCounters();
  c[anomalyIndex('tcp_truncated')]! += 2;
  t.same(anomalyCounts(c), { tcp_truncated: 2 });
});
