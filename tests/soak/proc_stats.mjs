// A process's resident memory and open file descriptors, read from /proc (Linux), and the
// least-squares slope of a series: what the soak driver and the fault tests use to show that the
// gateway leaks neither memory nor sockets.
import fs from 'node:fs';

// {rss_kib, fds} of `pid` now; throws when the process is gone.
export function procStats(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return { rss_kib: m ? Number(m[1]) : 0, fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

// Slope (units per second) of the least-squares line through points [{t (ms), v}].
export function slopePerSecond(points) {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, p) => s + p.t, 0) / n;
  const mv = points.reduce((s, p) => s + p.v, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.v - mv);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 1000;
}

// min, max, first, last, slope of a series [{t, v}].
export function seriesSummary(points) {
  const vs = points.map((p) => p.v);
  return {
    n: points.length,
    first: vs[0] ?? 0,
    last: vs.at(-1) ?? 0,
    min: vs.length ? Math.min(...vs) : 0,
    max: vs.length ? Math.max(...vs) : 0,
    slope_per_s: slopePerSecond(points),
  };
}
