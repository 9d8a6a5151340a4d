// Chat: the sessions, a session's history, its running turn live (text, tool calls, usage),
// sending a message, and the approvals and questions of a turn answered here.
import { html, useEffect, useRef, useState } from '../html.js';
import { ErrorBox, Json, SchemaFields, argumentsFrom, useSchemaValues } from '../components.js';
import { href, plural, since } from '../format.js';
import { changed, daemon, useStore } from '../store.js';
import { AppById } from '../apps.js';

// The chat lives outside the view: leaving the tab never loses a running turn.
const chat = { sessions: [], error: null, sessionId: null, history: [], turns: [], running: null, loadError: null };

function currentTurn(turnId) {
  let turn = chat.turns.find((t) => t.turnId === turnId);
  if (!turn) {
    turn = { turnId, prompt: '', parts: [], end: null };
    chat.turns.push(turn);
  }
  return turn;
}

daemon.on('chat:event', (event) => {
  if (event.sessionId !== chat.sessionId) return;
  // The turn this page sent, shown since the click: it becomes the daemon's turn (one message, not two).
  const pending = event.type === 'turn_start' && chat.turns.find((t) => t.turnId.startsWith('pending-'));
  if (pending && !chat.turns.some((t) => t.turnId === event.turnId)) pending.turnId = event.turnId;
  const turn = currentTurn(event.turnId);
  const last = turn.parts.at(-1);
  switch (event.type) {
    case 'turn_start':
      turn.prompt = event.prompt;
      turn.model = event.model;
      chat.running = event.turnId;
      break;
    case 'text':
      if (last?.kind === 'text') last.text += event.text;
      else turn.parts.push({ kind: 'text', text: event.text });
      break;
    case 'tool_start':
      turn.parts.push({ kind: 'tool', id: event.id, name: event.name, input: event.input, progress: null, end: null });
      break;
    case 'tool_search':
      turn.parts.push({ kind: 'search', query: event.query, found: event.found });
      break;
    case 'tool_progress': {
      const tool = turn.parts.find((p) => p.kind === 'tool' && p.id === event.id);
      if (tool) tool.progress = event;
      break;
    }
    case 'tool_end': {
      const tool = turn.parts.find((p) => p.kind === 'tool' && p.id === event.id);
      if (tool) tool.end = event;
      break;
    }
    case 'approval_request':
    case 'elicitation_request':
    case 'sampling_request':
      turn.parts.push({ kind: 'request', event, answered: null });
      break;
    case 'request_closed': {
      const request = turn.parts.find((p) => p.kind === 'request' && p.event.requestId === event.requestId);
      if (request && !request.answered) request.answered = 'closed by the daemon';
      break;
    }
    case 'notice':
      turn.parts.push({ kind: 'notice', text: event.message });
      break;
    case 'step_end':
      turn.usage = event.usage;
      break;
    case 'turn_end':
      turn.end = event;
      if (chat.running === event.turnId) chat.running = null;
      void loadSessions();
      break;
  }
  changed();
});

async function loadSessions() {
  try {
    chat.sessions = (await daemon.request('chat.sessions')).sessions;
    chat.loadError = null;
  } catch (error) {
    chat.loadError = error;
  }
  changed();
}

async function openSession(id) {
  if (chat.sessionId === id) return;
  chat.sessionId = id;
  chat.history = [];
  chat.turns = [];
  chat.running = null;
  chat.error = null;
  changed();
  if (!id) return;
  try {
    const [history, attached] = await Promise.all([
      daemon.request('chat.history', { sessionId: id }),
      daemon.request('chat.attach', { sessionId: id }),
    ]);
    if (chat.sessionId !== id) return;
    chat.history = history.messages;
    if (attached.runningTurnId) {
      chat.running = attached.runningTurnId;
      const turn = currentTurn(attached.runningTurnId);
      if (attached.partialText) turn.parts.unshift({ kind: 'text', text: attached.partialText });
    }
  } catch (error) {
    chat.error = error;
  }
  changed();
}

daemon.on('open', () => {
  void loadSessions();
  // After a reconnect the session is attached again (a turn that kept running is followed).
  const id = chat.sessionId;
  if (id) {
    chat.sessionId = null;
    void openSession(id);
  }
});

async function send(message) {
  chat.error = null;
  try {
    let id = chat.sessionId;
    if (!id) {
      id = (await daemon.request('chat.new')).id;
      chat.sessionId = id;
      location.hash = href('chat', id);
    }
    const pending = { turnId: `pending-${Date.now()}`, prompt: message, parts: [], end: null };
    chat.turns.push(pending);
    changed();
    const result = await daemon.request('chat.send', { sessionId: id, message, canApprove: true }, { timeoutMs: 0 });
    // Not taken over by the daemon's turn_start (events missed): the answer's turn stands in for it.
    if (pending.turnId.startsWith('pending-')) chat.turns = chat.turns.filter((t) => t !== pending);
    const turn = currentTurn(result.turnId);
    turn.prompt ||= message;
    turn.end ??= { stopReason: result.stopReason, usage: result.usage, sessionUsage: result.sessionUsage, error: result.error };
    if (turn.parts.length === 0 && result.text) turn.parts.push({ kind: 'text', text: result.text });
  } catch (error) {
    chat.turns = chat.turns.filter((t) => !t.turnId.startsWith('pending-'));
    chat.error = error;
  }
  changed();
}

function Usage({ usage }) {
  if (!usage) return null;
  return html`<span class="muted">${usage.inputTokens} in, ${usage.outputTokens} out${usage.cacheReadInputTokens ? `, ${usage.cacheReadInputTokens} cached` : ''}</span>`;
}

function ElicitationAnswer({ part }) {
  const { event } = part;
  const [values, setValues] = useSchemaValues(event.requestedSchema, event.requestId);
  const [error, setError] = useState(null);
  const answer = async (result) => {
    try {
      await daemon.request('chat.answer', { requestId: event.requestId, result });
      part.answered = result.action;
      changed();
    } catch (e) {
      setError(e);
    }
  };
  const accept = (e) => {
    e.preventDefault();
    try {
      void answer({ action: 'accept', content: argumentsFrom(event.requestedSchema, values) });
    } catch (err) {
      setError({ message: err.message });
    }
  };
  return html`<form onSubmit=${accept}>
    <${SchemaFields} schema=${event.requestedSchema} values=${values} onChange=${setValues} idPrefix=${`el-${event.requestId}`} />
    <div class="actions"><button type="submit" class="primary">Send</button><button type="button" onClick=${() => answer({ action: 'decline' })}>Decline</button><button type="button" onClick=${() => answer({ action: 'cancel' })}>Cancel</button></div>
    <${ErrorBox} error=${error} />
  </form>`;
}

function RequestPart({ part }) {
  const { event } = part;
  const decide = async (decision) => {
    try {
      await daemon.request('chat.approve', { requestId: event.requestId, decision });
      part.answered = decision;
    } catch (error) {
      part.answered = `failed: ${error.message}`;
    }
    changed();
  };
  const buttons = html`<div class="actions"><button class="primary" onClick=${() => decide('yes')}>Yes</button><button onClick=${() => decide('no')}>No</button><button onClick=${() => decide('always')}>Always</button></div>`;
  let body;
  if (event.type === 'approval_request') body = html`<div>Run <code>${event.name}</code>?</div><${Json} value=${event.input} />`;
  else if (event.type === 'sampling_request')
    body = html`<div><b>${event.server}</b> (tool <code>${event.tool}</code>) asks Claude, up to ${event.maxTokens} tokens:</div><pre class="content-text">${event.preview}</pre>`;
  else body = html`<div><b>${event.server}</b> (tool <code>${event.tool}</code>) asks: ${event.message}</div>`;
  return html`<div class="request" data-testid="chat-request">
    ${body}
    ${part.answered ? html`<div class="muted">Answered: ${part.answered}</div>` : event.type === 'elicitation_request' ? html`<${ElicitationAnswer} part=${part} />` : buttons}
  </div>`;
}

function Turn({ turn }) {
  return html`<div class="turn">
    ${turn.prompt ? html`<div class="message user"><div class="role">you</div><div class="content-text">${turn.prompt}</div></div>` : ''}
    <div class="message assistant"><div class="role">claude</div>
      ${turn.parts.map((part) => {
        if (part.kind === 'text') return html`<div class="content-text">${part.text}</div>`;
        if (part.kind === 'notice') return html`<div class="muted">${part.text}</div>`;
        if (part.kind === 'search')
          return html`<div class="tool-search muted">⌕ searched the tools for “${part.query}”: found ${part.found.length > 0 ? part.found.join(', ') : 'nothing'}</div>`;
        if (part.kind === 'request') return html`<${RequestPart} part=${part} />`;
        return html`<details class=${`tool-call ${part.end ? (part.end.ok ? 'ok' : 'failed') : 'running'}`}>
          <summary><code>${part.name}</code> ${part.end ? `${part.end.ok ? '✓' : '✗'} ${part.end.durationMs} ms` : part.progress ? `… ${part.progress.progress}${part.progress.total ? `/${part.progress.total}` : ''}` : '…'}</summary>
          <${Json} value=${part.input} />
          ${part.end ? html`<pre class="content-text">${part.end.summary}${part.end.truncated ? '\n(shortened)' : ''}</pre>` : ''}
        </details>${part.end?.app ? html`<${AppById} key=${part.end.app.view} daemon=${daemon} id=${part.end.app.view} />` : ''}`;
      })}
      ${!turn.end && turn.parts.length === 0 ? html`<div class="muted">thinking…</div>` : ''}
      ${turn.end ? html`<div class="turn-end muted">${turn.end.stopReason}${turn.end.error ? html` — <span class="error-text">${turn.end.error.message}</span>` : ''} · <${Usage} usage=${turn.end.usage} /></div>` : ''}
    </div>
  </div>`;
}

export function ChatView({ sessionId }) {
  useStore();
  const [draft, setDraft] = useState('');
  const box = useRef(null);
  useEffect(() => {
    void openSession(sessionId ?? null);
  }, [sessionId]);
  useEffect(() => {
    if (daemon.state === 'open') void loadSessions();
  }, []);
  useEffect(() => {
    if (box.current) box.current.scrollTop = box.current.scrollHeight;
  });
  const submit = (event) => {
    event.preventDefault();
    const message = draft.trim();
    if (!message || chat.running) return;
    setDraft('');
    void send(message);
  };
  const running = chat.running || chat.turns.some((t) => t.turnId.startsWith('pending-'));
  return html`<section class="split chat">
    <div class="list">
      <button class="primary" onClick=${() => (location.hash = '#/chat')}>New chat</button>
      <${ErrorBox} error=${chat.loadError} />
      <ul data-testid="chat-sessions">
        ${chat.sessions.map((s) => html`<li key=${s.id} class=${s.id === chat.sessionId ? 'selected' : ''}><a href=${href('chat', s.id)}>${s.title || '(untitled)'}</a><div class="muted">${s.model} · ${plural(s.turns, 'turn')} · ${since(s.updatedAt)} ago${s.running ? ' · running' : ''}</div></li>`)}
      </ul>
    </div>
    <div class="pane chat-pane">
      <div class="transcript" ref=${box} data-testid="chat-transcript">
        ${chat.history.map((m) => html`<div class=${`message ${m.role}`}><div class="role">${m.role === 'user' ? 'you' : 'claude'}</div><div class="content-text">${m.text}</div></div>`)}
        ${chat.turns.map((t) => html`<${Turn} key=${t.turnId} turn=${t} />`)}
        ${!chat.sessionId && chat.turns.length === 0 ? html`<p class="muted">A new chat with Claude over every tool of the catalogue. Approvals and servers' questions are answered here.</p>` : ''}
      </div>
      <${ErrorBox} error=${chat.error} />
      <form class="composer" onSubmit=${submit}>
        <textarea rows="3" placeholder="Message Claude… (Ctrl+Enter sends)" value=${draft} onInput=${(e) => setDraft(e.target.value)} onKeyDown=${(
          e,
        ) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) submit(e);
        }} aria-label="Message" />
        <div class="actions">
          <button type="submit" class="primary" disabled=${running || !draft.trim()}>Send</button>
          ${chat.running ? html`<button type="button" onClick=${() => daemon.request('chat.cancel', { sessionId: chat.sessionId })}>Cancel turn</button>` : ''}
        </div>
      </form>
    </div>
  </section>`;
}
