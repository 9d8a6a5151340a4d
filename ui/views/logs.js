// Logs: follow every source or one, filter by text and level, pause.
import { html, useEffect, useRef, useState } from '../html.js';
import { time } from '../format.js';
import { useRouteState } from '../components.js';
import { daemon, useStore } from '../store.js';

const LEVELS = ['debug', 'info', 'warn', 'error'];
const SHOWN = 1_000;

export function LogsView({ source: initialSource }) {
  const { logs, status } = useStore();
  const [source, setSource] = useRouteState(initialSource);
  const [text, setText] = useState('');
  const [level, setLevel] = useState('debug');
  const [paused, setPaused] = useState(null);
  const [older, setOlder] = useState([]);
  const box = useRef(null);
  // One source may have more in the daemon's ring than the page kept: read it.
  useEffect(() => {
    setOlder([]);
    if (!source) return;
    daemon.request('logs.read', { server: source, lines: SHOWN }).then(
      (r) => setOlder(r.entries),
      () => undefined,
    );
  }, [source]);

  const sources = [...new Set(['daemon', ...(status?.servers ?? []).map((s) => s.name), ...logs.map((e) => e.source)])];
  // Paused: the lines stay as they were at the pause; new ones are counted.
  const all = paused ? paused : logs;
  const merged = source
    ? mergeBySeq(
        older,
        all.filter((e) => e.source === source),
      )
    : all;
  const min = LEVELS.indexOf(level);
  const needle = text.toLowerCase();
  const shown = merged
    .filter(
      (e) =>
        LEVELS.indexOf(e.level) >= min && (!needle || e.text.toLowerCase().includes(needle) || e.source.toLowerCase().includes(needle)),
    )
    .slice(-SHOWN);
  const waiting = paused ? logs.length - paused.length : 0;

  useEffect(() => {
    const el = box.current;
    if (el && !paused) el.scrollTop = el.scrollHeight;
  });

  return html`<section class="logs">
    <div class="toolbar">
      <select value=${source} onChange=${(e) => setSource(e.target.value)} aria-label="Source">
        <option value="">all sources</option>
        ${sources.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
      <select value=${level} onChange=${(e) => setLevel(e.target.value)} aria-label="Level">
        ${LEVELS.map((l) => html`<option value=${l}>${l} and above</option>`)}
      </select>
      <input type="search" placeholder="Filter text…" value=${text} onInput=${(e) => setText(e.target.value)} aria-label="Filter log text" />
      <button onClick=${() => setPaused(paused ? null : [...logs])}>${paused ? `Resume${waiting > 0 ? ` (${waiting} new)` : ''}` : 'Pause'}</button>
      <span class="muted">${shown.length} lines</span>
    </div>
    <div class="log-lines" ref=${box} data-testid="log-lines">
      ${shown.map((e) => html`<div key=${e.seq} class=${`log-line level-${e.level}`}><span class="t">${time(e.time)}</span> <span class="src">${e.source}</span> <span class="lvl">${e.level}</span> <span class="text">${e.text}</span></div>`)}
      ${shown.length === 0 ? html`<p class="muted">No lines${text || source || level !== 'debug' ? ' match' : ' yet'}.</p>` : ''}
    </div>
  </section>`;
}

function mergeBySeq(a, b) {
  const seen = new Map();
  for (const e of a) seen.set(e.seq, e);
  for (const e of b) seen.set(e.seq, e);
  return [...seen.values()].sort((x, y) => x.seq - y.seq);
}
