// sse.js — Server-Sent Events read with fetch(), because EventSource cannot send an
// Authorization header. Parses the stream as the HTML standard says (fields, data
// lines, comments, id, retry), reconnects after `retry` ms sending Last-Event-ID,
// prompts for the token on 401 and hands 410 Gone to the caller (who re-lists).
import { apiUrl, authHeaders, needToken, problemOf, token } from './api.js';

/** Parses SSE text incrementally: push(chunk) calls onEvent({type, data, id}) per event. */
export class SseParser {
  constructor(onEvent, onRetry) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    this.buf = '';
    this.data = [];
    this.type = '';
    this.lastId = null;
    this.sawCr = false;
  }

  push(chunk) {
    let text = this.buf + chunk;
    // A chunk ending in \r may be the first half of \r\n.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c !== '\n' && c !== '\r') continue;
      this.line(text.slice(start, i));
      if (c === '\r') {
        if (i + 1 < text.length) {
          if (text[i + 1] === '\n') i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
    }
    this.buf = text.slice(start);
  }

  line(l) {
    if (l === '') {
      if (this.data.length > 0) {
        this.onEvent({ type: this.type || 'message', data: this.data.join('\n'), id: this.lastId });
      }
      this.data = [];
      this.type = '';
      return;
    }
    if (l.startsWith(':')) return;
    const colon = l.indexOf(':');
    const field = colon < 0 ? l : l.slice(0, colon);
    let value = colon < 0 ? '' : l.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.type = value;
    else if (field === 'id') {
      if (!value.includes('\0')) this.lastId = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) this.onRetry(Number(value));
    }
  }
}

/**
 * A watch stream that stays open: new WatchStream(pathFn, handlers).start().
 *   pathFn()           -> the URL path to (re)connect to (may change between connects)
 *   handlers.onEvent   -> ({type, data (parsed JSON), id})
 *   handlers.onState   -> ('connecting' | 'open' | 'retrying' | 'error', detail)
 *   handlers.onGone    -> () on 410: the cursor is too old; re-list, then start() again
 * Reconnects after the server's `retry` (2 s by default), backing off on errors up to 30 s.
 */
export class WatchStream {
  constructor(pathFn, handlers) {
    this.pathFn = pathFn;
    this.h = handlers;
    this.lastId = null;
    this.retryMs = 2000;
    this.failures = 0;
    this.ctrl = null;
    this.running = false;
  }

  /** Starts (or restarts) the stream from `lastId` (null: from now). */
  start(lastId = null) {
    this.stop();
    this.lastId = lastId;
    this.running = true;
    this.ctrl = new AbortController();
    this.loop(this.ctrl.signal);
  }

  stop() {
    this.running = false;
    if (this.ctrl) this.ctrl.abort();
    this.ctrl = null;
  }

  async loop(signal) {
    while (!signal.aborted) {
      this.h.onState?.('connecting');
      let ok = false;
      try {
        ok = await this.connect(signal);
      } catch (e) {
        if (signal.aborted) return;
        this.h.onState?.('retrying', e.message);
      }
      if (signal.aborted) return;
      if (ok === 'gone') return;
      if (ok === 'now') continue;
      this.failures = ok ? 0 : this.failures + 1;
      const backoff = Math.min(30000, this.retryMs * 2 ** Math.min(this.failures, 4));
      const wait = (ok ? this.retryMs : backoff) * (0.8 + 0.4 * Math.random());
      await sleep(wait, signal);
    }
  }

  /**
   * One connection: true when it ended cleanly, false on an error status, 'now' to
   * reconnect at once (a token was entered), 'gone' on 410.
   */
  async connect(signal) {
    const sentToken = token();
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (this.lastId !== null) headers['Last-Event-ID'] = this.lastId;
    const res = await fetch(apiUrl(this.pathFn()), { headers, signal, cache: 'no-store', credentials: 'omit' });
    if (res.status === 401) {
      await res.body?.cancel();
      await needToken(sentToken !== null);
      return 'now';
    }
    if (res.status === 410) {
      await res.body?.cancel();
      this.h.onGone?.();
      return 'gone';
    }
    if (!res.ok) {
      const p = await problemOf(res);
      this.h.onState?.('error', p.message);
      return false;
    }
    this.h.onState?.('open');
    const parser = new SseParser(
      (ev) => {
        if (ev.id !== null) this.lastId = ev.id;
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        this.h.onEvent({ type: ev.type, data, id: ev.id });
      },
      (ms) => (this.retryMs = ms),
    );
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
    }
    this.h.onState?.('retrying', 'the stream ended');
    return true;
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
